// Installs bench/'s own packages (the reference servers: Hocuspocus with SQLite, @y/websocket-server
// with LevelDB) before `npm run bench`, when they are missing or older than bench/package-lock.json.
// They live apart from plait's package.json so that installing plait does not build them.
import { spawnSync } from 'node:child_process'
import { existsSync, statSync } from 'node:fs'
import { join } from 'node:path'

const bench = import.meta.dirname
const lock = join(bench, 'package-lock.json')
// npm writes this after every install into bench/node_modules: it says what is installed there.
const installed = join(bench, 'node_modules', '.package-lock.json')

if (!existsSync(installed) || statSync(installed).mtimeMs < statSync(lock).mtimeMs) {
  console.error('bench: installing the reference servers into bench/node_modules (npm --prefix bench ci)')
  const args = ['ci', '--prefix', bench, '--no-audit', '--no-fund']
  // Inside `npm run`, npm_execpath is the npm that runs us; otherwise take npm from the PATH.
  const npm = process.env.npm_execpath
  const result = npm
    ? spawnSync(process.execPath, [npm, ...args], { stdio: 'inherit' })
    : spawnSync('npm', args, { stdio: 'inherit', shell: process.platform === 'win32' })
  // Not fatal: plait and ws-relay need none of it; the targets that do say so and are skipped.
  if (result.status !== 0) console.error('bench: installing bench/ packages failed (see above)')
}
