// `npm run docs:options`: rewrites README.md's options table from the option table
// (server/options/table.ts). With --check it only says whether README is current (exit 1 if not).
import { readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { withOptionsTable } from '../server/options/render.js'

const path = join(import.meta.dirname, '..', 'README.md')
const readme = readFileSync(path, 'utf8')
const current = withOptionsTable(readme)
if (process.argv.includes('--check')) {
  if (current !== readme) {
    process.stderr.write('README.md options table is stale: run npm run docs:options\n')
    process.exit(1)
  }
} else if (current !== readme) {
  writeFileSync(path, current)
  process.stdout.write('README.md: options table rewritten\n')
}
