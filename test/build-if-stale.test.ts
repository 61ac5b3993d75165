// `npm start` builds first only when something changed (scripts/build-if-stale.mjs). Run here on a
// made-up repository whose `npm run build` writes the outputs and counts how often it ran.
import assert from 'node:assert/strict'
import { execFileSync } from 'node:child_process'
import { mkdirSync, readFileSync, utimesSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { after, describe, test } from 'node:test'
import { removeDir, repoRoot, tempDir } from './helpers/server.js'

const script = join(repoRoot, 'scripts', 'build-if-stale.mjs')
const outputs = [
  'dist/server/index.js',
  'dist/client/index.js',
  'dist/persistence/contract.js',
  'dist/plait.mjs',
  'web-demo/dist/index.html',
]

/** A repository with one source file and a build that writes every output and appends to builds.log. */
function fakeRepository(): string {
  const root = tempDir('plait-build-if-stale-')
  mkdirSync(join(root, 'server'))
  writeFileSync(join(root, 'server', 'index.ts'), 'export {}\n')
  writeFileSync(
    join(root, 'build.cjs'),
    [
      "const { appendFileSync, mkdirSync, writeFileSync } = require('node:fs')",
      "const { dirname } = require('node:path')",
      `for (const f of ${JSON.stringify(outputs)}) { mkdirSync(dirname(f), { recursive: true }); writeFileSync(f, '') }`,
      "appendFileSync('builds.log', 'built\\n')",
    ].join('\n'),
  )
  writeFileSync(
    join(root, 'package.json'),
    JSON.stringify({ name: 'fake', private: true, scripts: { build: 'node build.cjs' } }),
  )
  return root
}

function start(root: string): string {
  return execFileSync(process.execPath, [script, '--root', root], { encoding: 'utf8', timeout: 60_000 })
}

function builds(root: string): number {
  try {
    return readFileSync(join(root, 'builds.log'), 'utf8').split('\n').filter(Boolean).length
  } catch {
    return 0
  }
}

/** Sets a file's mtime `secondsAgo` in the past (the outputs), so a later write is surely newer. */
function age(root: string, path: string, secondsAgo: number): void {
  const then = new Date(Date.now() - secondsAgo * 1000)
  utimesSync(join(root, path), then, then)
}

describe('npm start builds only what changed', () => {
  const roots: string[] = []
  after(() => {
    for (const root of roots) removeDir(root)
  })

  test('a fresh clone with no dist/ is built before it starts', () => {
    const root = fakeRepository()
    roots.push(root)
    assert.match(start(root), /dist\/server\/index\.js is missing; running npm run build/)
    assert.equal(builds(root), 1)
  })

  test('a second start with nothing changed does not rebuild', () => {
    const root = fakeRepository()
    roots.push(root)
    start(root)
    assert.match(start(root), /up to date, not rebuilding/)
    assert.equal(builds(root), 1)
  })

  test('a changed source, an added file or a deleted output makes the next start rebuild', () => {
    const root = fakeRepository()
    roots.push(root)
    start(root)
    for (const output of outputs) age(root, output, 60)
    writeFileSync(join(root, 'server', 'index.ts'), 'export const changed = 1\n')
    assert.match(start(root), /server\/index\.ts changed since the last build/)
    assert.equal(builds(root), 2)

    for (const output of outputs) age(root, output, 60)
    age(root, 'server/index.ts', 120)
    age(root, 'server', 120)
    age(root, 'package.json', 120)
    assert.match(start(root), /up to date/)
    mkdirSync(join(root, 'client'))
    writeFileSync(join(root, 'client', 'new.ts'), 'export {}\n')
    assert.match(start(root), /client.* changed since the last build/)
    assert.equal(builds(root), 3)

    removeDir(join(root, 'dist', 'plait.mjs'))
    assert.match(start(root), /dist\/plait\.mjs is missing/)
    assert.equal(builds(root), 4)
  })
})
