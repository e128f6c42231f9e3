import type { ArtifactView, CommunityConfidence } from '../../../contracts/trace.js'
import { el, errorText, link, notice } from '../dom.js'
import { href, route } from '../view.js'
import type { View, ViewContext } from '../view.js'
import { communityColours } from './community-colour.js'
import { artifactTimeline } from './artifact-model.js'
import type { TimelineRow } from './artifact-model.js'
import { outcomeKind } from './trace-model.js'

/**
 * The Artifact view, `#/artifact/<purl>`: the quality stamp first (per community, what its tests
 * said, newest verdict first), then the artifact's timeline across communities, each row a link
 * to its event; and a field to open another artifact.
 */

export const artifactView: View = {
  title: 'Artifact',
  // `/artifact` alone: only the field to open one
  match: path => path === '/artifact' ? {} : matchPurl(path),
  render: (root, ctx) => {
    const purl = ctx.params.purl ?? ''
    if (purl === '') {
      root.replaceChildren(el('h1', {}, 'Artifact'), openForm(ctx, ''), notice('a Package URL opens what this node holds about that artifact, across communities'))
      return
    }
    const status = el('p', { class: 'notice', role: 'status' }, 'loading…')
    const body = el('div', { class: 'artifact-body' })
    root.replaceChildren(el('h1', {}, 'Artifact ', el('code', {}, purl)), openForm(ctx, purl), status, body)
    let gone = false
    ctx.api<ArtifactView>(`/v1/artifacts/${encodeURIComponent(purl)}`).then(view => {
      if (gone) return
      const rows = artifactTimeline(view, peerId => ctx.trustName(peerId))
      const tested = view.confidence.length
      status.textContent = `tested by ${tested} ${tested === 1 ? 'community' : 'communities'}; ${rows.length} ${rows.length === 1 ? 'event' : 'events'}`
      const chip = communityChip(communityColours([...view.confidence.map(c => c.community), ...rows.map(r => r.community)]))
      body.replaceChildren(
        ...(view.truncated ? [el('p', { class: 'warn', role: 'alert' }, 'Truncated: the node holds more about this artifact than is shown.')] : []),
        confidenceSection(view.confidence, chip),
        timelineSection(rows, chip)
      )
    }, (err: unknown) => {
      if (gone) return
      status.replaceWith(notice(`could not load the artifact: ${errorText(err)}`, 'error'))
    })
    return () => { gone = true }
  }
}

const matchPurl = route('/artifact', 'purl')

function openForm (ctx: ViewContext, purl: string): HTMLFormElement {
  const input = el('input', { type: 'text', name: 'purl', size: '60', placeholder: 'pkg:oci/app@sha256:…', 'aria-label': 'Package URL' })
  input.value = purl
  const form = el('form', { class: 'artifact-open' }, input, el('button', { type: 'submit' }, 'Open artifact'))
  form.addEventListener('submit', event => {
    event.preventDefault()
    const next = input.value.trim()
    if (next !== '') ctx.navigate(href('/artifact', next).slice(1))
  })
  return form
}

function confidenceSection (confidence: CommunityConfidence[], chip: Chip): HTMLElement {
  const section = el('section', { class: 'artifact-confidence' }, el('h2', {}, 'Confidence: what each community\'s tests said'))
  if (confidence.length === 0) {
    section.append(notice('no test results held for this artifact'))
    return section
  }
  section.append(el('table', { class: 'list' },
    el('thead', {}, headRow(['Community', 'Latest verdict', 'Suite', 'When', 'Passed', 'Failed'])),
    el('tbody', {}, ...confidence.map(c => {
      return el('tr', { 'data-community': c.community, 'data-outcome': c.latest.outcome },
        el('td', {}, chip(c.community)),
        el('td', { class: `outcome-${outcomeKind(c.latest.outcome)}` }, link(href('/event', c.latest.digest), c.latest.outcome)),
        el('td', {}, c.latest.suite),
        el('td', {}, c.latest.time ?? ''),
        el('td', {}, String(c.passed)),
        el('td', {}, String(c.failed)))
    }))
  ))
  return section
}

const KIND_TEXT: Record<TimelineRow['kind'], string> = {
  change: 'change', build: 'build', lifecycle: 'artifact', test: 'test run', deployment: 'deployment'
}

function timelineSection (rows: TimelineRow[], chip: Chip): HTMLElement {
  const section = el('section', { class: 'artifact-timeline' }, el('h2', {}, 'Timeline across communities'))
  if (rows.length === 0) {
    section.append(notice('no events held for this artifact'))
    return section
  }
  section.append(el('table', { class: 'list' },
    el('thead', {}, headRow(['When', 'What', 'Community', 'Subject / suite / service', 'Outcome', 'Environment'])),
    el('tbody', {}, ...rows.map(r => el('tr', { 'data-digest': r.digest, 'data-kind': r.kind },
      el('td', {}, r.time ?? ''),
      el('td', {}, link(href('/event', r.digest), `${KIND_TEXT[r.kind]}: ${r.eventClass}`)),
      el('td', {}, chip(r.community)),
      el('td', {}, r.what),
      el('td', r.outcome === undefined ? {} : { class: `outcome-${outcomeKind(r.outcome)}` }, r.outcome ?? ''),
      el('td', {}, r.environment ?? ''))))
  ))
  return section
}

function headRow (names: string[]): HTMLTableRowElement {
  return el('tr', {}, ...names.map(n => el('th', { scope: 'col' }, n)))
}

type Chip = (name: string) => HTMLElement

/** The community's name beside its colour, the one its nodes have in the graphs. */
function communityChip (colours: Map<string, string>): Chip {
  return name => {
    const swatch = el('span', { class: 'swatch', 'aria-hidden': 'true' })
    swatch.style.backgroundColor = colours.get(name) ?? 'transparent'
    return el('span', { class: 'community' }, swatch, name)
  }
}
