import type { View } from '../view.js'
import { artifactView } from './artifact.js'
import { eventView } from './event.js'
import { liveView } from './live.js'
import { nodeView } from './node.js'
import { chainView, traceView } from './trace.js'

/**
 * Every view of the web page, in navigation order; a new view is a file in views/ and a line
 * here. The first one that matches a path shows it; `#/` shows the first.
 */
export const VIEWS: readonly View[] = [
  liveView,
  eventView,
  chainView,
  traceView,
  artifactView,
  nodeView
]

/** The views with a page of their own in the navigation bar, and the path each opens. */
export const NAVIGATION: ReadonlyArray<{ title: string, path: string }> = [
  { title: liveView.title, path: '/live' },
  { title: artifactView.title, path: '/artifact' },
  { title: nodeView.title, path: '/node' }
]
