// The option table is the one source: README's table, --help and the command line follow it, and
// createServer takes the grouped options it names (with the demo off unless asked for).
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, test } from 'node:test'
import { loadConfig, optionsFromCommandLine } from '../server/cli/config.js'
import { optionsTable, withOptionsTable } from '../server/options/render.js'
import { ConfigError, optionAt, resolveOptions } from '../server/options/resolve.js'
import type { OptionSpec } from '../server/options/spec.js'
import { specs } from '../server/options/table.js'
import { createServer } from '../server/server.js'
import { freePort, PlaitProcess } from './helpers/plait-process.js'
import { removeDir, repoRoot, runPlait, startServer, tempDir } from './helpers/server.js'

const allSpecs: readonly OptionSpec[] = specs

describe('the option table', () => {
  test("README's options table is what the table produces (npm run docs:options rewrites it)", () => {
    const readme = readFileSync(join(repoRoot, 'README.md'), 'utf8')
    assert.ok(readme.includes(optionsTable()), 'README.md is stale: run npm run docs:options')
    assert.equal(withOptionsTable(readme), readme)
  })

  test('names every option once: key, place, flag and variable', () => {
    for (const field of ['key', 'at', 'flag', 'env'] as const) {
      const names = allSpecs.flatMap((s) =>
        field === 'flag' || field === 'env' ? [s[field], s.formerly?.[field] ?? []].flat() : [s[field]],
      )
      assert.deepEqual(
        names.filter((n, i) => names.indexOf(n) !== i),
        [],
        `${field}s used twice`,
      )
    }
  })

  test('--help lists every flag and variable with its command-line default', () => {
    const result = runPlait(['--help'])
    assert.equal(result.status, 0)
    for (const spec of allSpecs) {
      assert.ok(result.stdout.includes(`--${spec.flag}`), spec.flag)
      assert.ok(result.stdout.includes(spec.env), spec.env)
    }
    assert.match(result.stdout, /--demo \/ --no-demo\s+DEMO\s+on /)
  })

  test('every flag lands where the table says in the options createServer takes', () => {
    const sample: Record<OptionSpec['kind'], string> = {
      int: '7',
      bytes: '2kib',
      // Between the header timeout's default and the request timeout's, so either passes the check.
      ms: '20s',
      string: '/x',
      nullable: 'v',
      bool: '',
      list: 'a,b',
      level: 'warn',
    }
    const expected = {
      int: 7,
      bytes: 2048,
      ms: 20_000,
      string: '/x',
      nullable: 'v',
      bool: true,
      list: ['a', 'b'],
    }
    for (const spec of allSpecs) {
      const argv = spec.kind === 'bool' ? [`--${spec.flag}`] : [`--${spec.flag}`, sample[spec.kind]]
      const options = optionsFromCommandLine(argv, {}) as Record<string, unknown> | 'help'
      assert.notEqual(options, 'help')
      const value = optionAt(options as never, spec.at)
      assert.deepEqual(value, spec.kind === 'level' ? 'warn' : expected[spec.kind], spec.flag)
    }
  })

  test('createServer names options by their place; unknown or flat ones are refused with a hint', () => {
    assert.throws(
      () => resolveOptions({ limits: { maxRooms: 0 } }),
      /^ConfigError: limits\.maxRooms must be greater than 0$/,
    )
    assert.throws(
      () => resolveOptions({ maxRooms: 3 } as never),
      (e: Error) =>
        e instanceof ConfigError && e.message === 'unknown option maxRooms (did you mean limits.maxRooms?)',
    )
    assert.throws(() => resolveOptions({ auth: { secrett: 'x' } } as never), /unknown option auth\.secrett/)
    assert.throws(
      () => resolveOptions({ tuning: { heartbeatMs: '30s' } } as never),
      /tuning\.heartbeatMs must be a number/,
    )
    assert.throws(
      () => resolveOptions({ limits: { headersTimeoutMs: 60_000 } }),
      /limits\.headersTimeoutMs must not be longer than limits\.requestTimeoutMs/,
    )
    assert.throws(
      () => createServer({ cluster: { redisUrl: 'redis://127.0.0.1:6379' }, dataDir: tempDir() }),
      /cluster mode needs both cluster\.redisUrl \(recent updates, fan-out\) and cluster\.databaseUrl/,
    )
    assert.throws(
      () => createServer({ host: '0.0.0.0', dataDir: tempDir() }),
      /without auth: set auth\.secret or auth\.jwks, or pass auth\.allowAnonymous/,
    )
    assert.doesNotThrow(() =>
      createServer({ host: '0.0.0.0', dataDir: tempDir(), auth: { authenticate: () => null } }),
    )
    assert.match(
      runPlait(['--host', '0.0.0.0', '--data', tempDir()]).stderr,
      /set --auth-secret or --auth-jwks, or pass --allow-anonymous/,
    )
    const config = resolveOptions({ auth: { secret: 's' }, limits: { maxDocumentBytes: 4096 } })
    assert.equal(config.authSecret, 's')
    assert.equal(config.maxDocumentBytes, 4096)
    assert.equal(config.demo, false)
    const cli = loadConfig([], {})
    assert.ok(cli !== 'help')
    assert.equal(cli.demo, true, 'the command line serves the demo')
  })
})

describe('the demo', () => {
  test('is off for an embedder unless asked for', async () => {
    const s = await startServer()
    try {
      assert.equal((await fetch(`${s.http}/`)).status, 404)
      assert.equal((await fetch(`${s.http}/whiteboard/`)).status, 404)
    } finally {
      await s.stop()
      removeDir(s.dataDir)
    }
    const on = await startServer({ demo: true })
    try {
      const page = await fetch(`${on.http}/`)
      assert.equal(page.status, 200)
      assert.match(page.headers.get('content-type') ?? '', /text\/html/)
    } finally {
      await on.stop()
      removeDir(on.dataDir)
    }
  })

  test('is on for the plait command npm start runs (dist/plait.mjs), and --no-demo turns it off', async () => {
    for (const [flags, status] of [
      [[], 200],
      [['--no-demo'], 404],
    ] as const) {
      const plait = new PlaitProcess(await freePort(), [...flags])
      try {
        await plait.start()
        const page = await fetch(`${plait.url}/`)
        assert.equal(page.status, status, `${flags.join(' ')}: ${plait.output}`)
        if (status === 200) assert.match(await page.text(), /<html/i)
      } finally {
        await plait.dispose()
      }
    }
  })
})
