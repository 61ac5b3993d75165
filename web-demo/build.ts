// Bundles the demo into static files under web-demo/dist, which the plait server serves as they are.
// Run: node --import tsx web-demo/build.ts [--sourcemaps]   (or DEMO_SOURCEMAPS=1)
import { createHash } from 'node:crypto'
import { copyFile, mkdir, readFile, rm, writeFile } from 'node:fs/promises'
import { dirname, join, relative } from 'node:path'
import { fileURLToPath } from 'node:url'
import { build, type Metafile } from 'esbuild'

const here = dirname(fileURLToPath(import.meta.url))
const src = join(here, 'src')
const dist = join(here, 'dist')
// Source maps are ~1.4 MB that every visitor could download and nobody but a developer reads: opt-in.
const sourcemaps = process.argv.includes('--sourcemaps') || process.env.DEMO_SOURCEMAPS === '1'

interface PageSpec {
  name: string
  title: string
  /** Output directory of the page, relative to dist ('' is the root). */
  dir: string
  script: string
  style: string
  fragment: string
}

const pages: PageSpec[] = [
  {
    name: 'editor',
    title: 'plait — shared notes',
    dir: '',
    script: 'editor/main.ts',
    style: 'styles/editor.css',
    fragment: 'editor/page.html',
  },
  {
    name: 'whiteboard',
    title: 'plait — whiteboard',
    dir: 'whiteboard',
    script: 'whiteboard/main.ts',
    style: 'styles/whiteboard.css',
    fragment: 'whiteboard/page.html',
  },
  {
    name: 'rich-text',
    title: 'plait — rich text',
    dir: 'rich-text',
    script: 'rich-text/main.ts',
    style: 'styles/rich-text.css',
    fragment: 'rich-text/page.html',
  },
]

/** Maps each entry point (path relative to web-demo/) to its hashed output file (path relative to dist). */
function outputsByEntry(metafile: Metafile): Map<string, string> {
  const map = new Map<string, string>()
  for (const [output, info] of Object.entries(metafile.outputs)) {
    if (info.entryPoint === undefined) continue
    const entry = relative(here, join(process.cwd(), info.entryPoint))
    map.set(entry, relative(dist, join(process.cwd(), output)))
  }
  return map
}

function fill(template: string, values: Record<string, string>): string {
  return template.replace(/\{\{(\w+)\}\}/g, (match, key: string) => values[key] ?? match)
}

async function main(): Promise<void> {
  await rm(dist, { recursive: true, force: true })
  await mkdir(join(dist, 'assets'), { recursive: true })

  const bundle = await build({
    absWorkingDir: process.cwd(),
    entryPoints: pages.flatMap((page) => [
      { in: join(src, page.script), out: page.name },
      { in: join(src, page.style), out: page.name },
    ]),
    outdir: join(dist, 'assets'),
    entryNames: '[name]-[hash]',
    chunkNames: 'shared-[hash]',
    bundle: true,
    splitting: true,
    format: 'esm',
    target: ['es2022', 'chrome100', 'firefox100', 'safari15'],
    minify: true,
    sourcemap: sourcemaps,
    metafile: true,
    legalComments: 'linked',
    logLevel: 'warning',
  })
  const outputs = outputsByEntry(bundle.metafile)

  const layout = await readFile(join(src, 'pages/layout.html'), 'utf8')
  for (const page of pages) {
    const base = page.dir === '' ? './' : '../'.repeat(page.dir.split('/').length)
    const script = outputs.get(relative(here, join(src, page.script)))
    const style = outputs.get(relative(here, join(src, page.style)))
    if (script === undefined || style === undefined) throw new Error(`no bundle for ${page.name}`)
    const html = fill(layout, {
      title: page.title,
      base,
      js: `${base}${script}`,
      css: `${base}${style}`,
      bodyClass: `page-${page.name}`,
      page: await readFile(join(src, page.fragment), 'utf8'),
    })
    await mkdir(join(dist, page.dir), { recursive: true })
    await writeFile(join(dist, page.dir, 'index.html'), html)
  }
  await copyFile(join(src, 'assets/favicon.svg'), join(dist, 'favicon.svg'))

  // The offline shell: every file a page needs, so a reload works while the server is down.
  const shell = [
    './',
    ...pages.filter((page) => page.dir !== '').map((page) => `./${page.dir}/`),
    './favicon.svg',
    ...Object.keys(bundle.metafile.outputs)
      .map((output) => relative(dist, join(process.cwd(), output)))
      .filter((file) => !file.endsWith('.map') && !file.endsWith('.LEGAL.txt'))
      .map((file) => `./${file}`),
  ]
  const version = createHash('sha256').update(shell.join('\n')).digest('hex').slice(0, 12)
  await build({
    entryPoints: [join(src, 'offline/service-worker.ts')],
    outfile: join(dist, 'sw.js'),
    bundle: true,
    format: 'iife',
    target: ['es2022'],
    minify: true,
    define: { PLAIT_SHELL_FILES: JSON.stringify(shell), PLAIT_SHELL_VERSION: JSON.stringify(version) },
    logLevel: 'warning',
  })
  console.log(`web-demo: built ${shell.length} shell files into ${relative(process.cwd(), dist)}/`)
}

main().catch((error: unknown) => {
  console.error(error)
  process.exitCode = 1
})
