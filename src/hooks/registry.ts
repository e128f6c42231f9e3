import type { SourceKind, SourceKindName, Translation } from './types.js'
import { cdevents } from './kinds/cdevents.js'
import { generic } from './kinds/generic.js'
import { gerrit } from './kinds/gerrit.js'
import { github } from './kinds/github.js'
import { gitlab } from './kinds/gitlab.js'
import { harbor } from './kinds/harbor.js'
import { jenkins } from './kinds/jenkins.js'
import { nexus } from './kinds/nexus.js'

/** A kind whatever its settings type: the listener only passes back what the kind's parseSettings gave. */
export type AnySourceKind = SourceKind<unknown, Translation | Promise<Translation>>

/**
 * The kinds this build can receive, by name. A kind of SOURCE_KIND_NAMES missing here is refused
 * when a source names it (config load and POST /v1/sources), with a message saying so.
 */
export const SOURCE_KINDS: Readonly<Partial<Record<SourceKindName, AnySourceKind>>> = Object.freeze({
  github: github as AnySourceKind,
  gitlab: gitlab as AnySourceKind,
  gerrit: gerrit as AnySourceKind,
  jenkins: jenkins as AnySourceKind,
  nexus: nexus as AnySourceKind,
  harbor: harbor as AnySourceKind,
  cdevents: cdevents as AnySourceKind,
  generic: generic as AnySourceKind
})

export function sourceKind (name: string): AnySourceKind | undefined {
  return Object.hasOwn(SOURCE_KINDS, name) ? SOURCE_KINDS[name as SourceKindName] : undefined
}
