import { copyFile, mkdir, rm } from 'node:fs/promises'
import { fileURLToPath } from 'node:url'
import { build } from 'esbuild'

/**
 * `npm run build`'s last step: the web page (src/ui/app/) bundled into dist/ui/ — one script,
 * one stylesheet and index.html — which the node serves at /ui/. Everything the page needs is in
 * the bundle (no CDN); the node refuses any other origin by its CSP. Type checking is tsc's job
 * (tsconfig.ui.json); esbuild only strips types and bundles.
 */
const root = fileURLToPath(new URL('../../', import.meta.url))
const app = `${root}src/ui/app/`
const out = `${root}dist/ui/`

await rm(out, { recursive: true, force: true })
await mkdir(out, { recursive: true })
await build({
  entryPoints: [{ in: `${app}main.ts`, out: 'app' }, { in: `${app}style.css`, out: 'app' }],
  outdir: out,
  bundle: true,
  format: 'esm',
  target: 'es2022',
  minify: true,
  sourcemap: true,
  legalComments: 'eof',
  logLevel: 'warning'
})
await copyFile(`${app}index.html`, `${out}index.html`)
