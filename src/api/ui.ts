import { readdirSync, readFileSync } from 'node:fs'
import { extname } from 'node:path'
import { fileURLToPath } from 'node:url'
import type { FastifyPluginAsync, FastifyReply } from 'fastify'
import { tokenMatcher } from './auth.js'
import type { UiSessions } from './ui-sessions.js'

/** Where the web page lives; `cdgossip ui` prints `${UI_PREFIX}?token=…`. */
const UI_PREFIX = '/ui/'

/** A token longer than this is not ours: refused before hashing. */
const MAX_TOKEN_LENGTH = 512

/**
 * Every /ui response: assets only from the node itself (no CDN, no inline script), never framed,
 * and no Referer, so the login URL's token cannot leak to a link's target.
 */
const UI_HEADERS: Readonly<Record<string, string>> = Object.freeze({
  'content-security-policy': "default-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'",
  'referrer-policy': 'no-referrer',
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'DENY'
})

const MEDIA_TYPES: Readonly<Record<string, string>> = Object.freeze({
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.woff2': 'font/woff2'
})

export interface UiOptions {
  token: string
  sessions: UiSessions
  /** the bundle `npm run build` writes; default: the package's dist/ui/ */
  dir?: string
}

interface Asset { body: Buffer, type: string }

/**
 * GET /ui/: the web page. `?token=` logs in (Jupyter's token-URL convention): a right token opens
 * a session, sets its cookie and redirects to /ui/ so the token leaves the address bar and
 * history; without a session the page answers 401 with how to get the link, not the app. The
 * scripts and styles are public (they hold no data); every data request goes through the
 * protected API, where the cookie can only read (auth.ts).
 */
export const uiRoutes: FastifyPluginAsync<UiOptions> = async (app, options) => {
  const { sessions } = options
  const isToken = tokenMatcher(options.token)
  const assets = loadAssets(options.dir ?? defaultUiDir())
  const index = assets.get('index.html')

  const page = async (request: { query: unknown, headers: { cookie?: string } }, reply: FastifyReply): Promise<FastifyReply> => {
    reply.headers(UI_HEADERS).header('cache-control', 'no-store')
    const token = (request.query as { token?: unknown }).token
    if (token !== undefined) {
      if (typeof token !== 'string' || token.length > MAX_TOKEN_LENGTH || !isToken(token)) {
        return await reply.code(401).type(MEDIA_TYPES['.html'] as string).send(loginPage('That link\'s token is not this node\'s.'))
      }
      return await reply.code(303).header('set-cookie', sessions.setCookie(sessions.open())).header('location', UI_PREFIX).send()
    }
    const session = sessions.idFrom(request.headers.cookie)
    if (session === undefined || !sessions.isOpen(session)) {
      return await reply.code(401).type(MEDIA_TYPES['.html'] as string).send(loginPage())
    }
    if (index === undefined) {
      return await reply.code(503).type('text/plain; charset=utf-8').send('the web page is not built: run npm run build\n')
    }
    return await reply.type(index.type).send(index.body)
  }
  const hidden = { schema: { hide: true }, logLevel: 'warn' as const }
  app.get('/ui', hidden, page)
  app.get(UI_PREFIX, hidden, page)
  app.get<{ Params: { file: string } }>(`${UI_PREFIX}:file`, hidden, async (request, reply) => {
    const asset = request.params.file === 'index.html' ? undefined : assets.get(request.params.file)
    reply.headers(UI_HEADERS)
    if (asset === undefined) return await reply.code(404).type('text/plain; charset=utf-8').send('not found\n')
    return await reply.type(asset.type).header('cache-control', 'no-cache').send(asset.body)
  })
}

/** The files of the bundle by name (flat: esbuild writes one folder); unknown extensions are left out. */
function loadAssets (dir: string): Map<string, Asset> {
  const assets = new Map<string, Asset>()
  let names: string[]
  try {
    names = readdirSync(dir)
  } catch {
    return assets
  }
  for (const name of names) {
    const type = MEDIA_TYPES[extname(name)]
    if (type !== undefined) assets.set(name, { body: readFileSync(`${dir}/${name}`), type })
  }
  return assets
}

/** dist/ui/ of the package; this module runs from src/api/ (tests) or dist/src/api/ (the CLI). */
function defaultUiDir (): string {
  const fromDist = fileURLToPath(new URL('../../ui/', import.meta.url))
  const fromSrc = fileURLToPath(new URL('../../dist/ui/', import.meta.url))
  return import.meta.url.includes('/dist/src/') ? fromDist : fromSrc
}

/** The page without a session: fixed text only, nothing from the request. */
function loginPage (problem?: string): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>cdgossip: log in</title>
<link rel="stylesheet" href="${UI_PREFIX}app.css"></head>
<body><main class="login"><h1>cdgossip</h1>
${problem === undefined ? '' : `<p class="problem">${problem}</p>\n`}<p>Open the link <code>cdgossip ui</code> prints on the node's machine; it logs this browser in.</p>
</main></body></html>
`
}
