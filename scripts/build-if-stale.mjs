// `npm start` runs this first: it runs `npm run build` only when an output is missing or some input is
// newer than the oldest output, so a second start does not spend seconds rebuilding what has not changed.
// Plain JavaScript, so it runs before anything is built and without a TypeScript loader.
// Usage: node scripts/build-if-stale.mjs [--root <dir>]   (the root defaults to this repository)
import { spawnSync } from 'node:child_process'
import { readdirSync, statSync } from 'node:fs'
import { dirname, join, relative } from 'node:path'
import { fileURLToPath } from 'node:url'

/** What the build reads: source folders (walked) and single files; a missing one is skipped. */
export const inputs = [
  'server',
  'client',
  'persistence',
  'web-demo/src',
  'web-demo/build.ts',
  'package.json',
  'package-lock.json',
  'tsconfig.json',
  'tsconfig.build.json',
]

/** What `npm run build` writes, one file for each of its steps (tsc, the server bundle, the demo). */
export const outputs = [
  'dist/server/index.js',
  'dist/client/index.js',
  'dist/persistence/contract.js',
  'dist/plait.mjs',
  'web-demo/dist/index.html',
]

/** Newest mtime (ms) under `path`, folders included (a deleted file changes its folder's mtime). */
function newestUnder(root, path, found) {
  const rel = relative(root, path)
  if (rel.endsWith('node_modules')) return
  let stat
  try {
    stat = statSync(path)
  } catch {
    return
  }
  if (stat.mtimeMs > found.mtimeMs) {
    found.mtimeMs = stat.mtimeMs
    found.path = rel
  }
  if (!stat.isDirectory()) return
  for (const name of readdirSync(path)) newestUnder(root, join(path, name), found)
}

/** Why `root` needs a build (a sentence), or null when every output is newer than every input. */
export function whyBuild(root) {
  let oldest = Number.POSITIVE_INFINITY
  for (const output of outputs) {
    let stat
    try {
      stat = statSync(join(root, output))
    } catch {
      return `${output} is missing`
    }
    oldest = Math.min(oldest, stat.mtimeMs)
  }
  const newest = { mtimeMs: 0, path: '' }
  for (const input of inputs) newestUnder(root, join(root, input), newest)
  return newest.mtimeMs > oldest ? `${newest.path} changed since the last build` : null
}

function main() {
  const at = process.argv.indexOf('--root')
  const root = at === -1 ? join(dirname(fileURLToPath(import.meta.url)), '..') : process.argv[at + 1]
  const why = whyBuild(root)
  if (why === null) {
    console.log('build: dist/ is up to date, not rebuilding (npm run build forces it)')
    return
  }
  console.log(`build: ${why}; running npm run build`)
  const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm'
  const result = spawnSync(npm, ['run', 'build'], { cwd: root, stdio: 'inherit', shell: false })
  process.exitCode = result.status ?? 1
}

if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1]) main()
