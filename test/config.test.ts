// Configuration: flags over environment variables, units, refusals that name the option, and --help.
import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { ConfigError, loadConfig } from '../server/cli/config.js'
import { runPlait } from './helpers/server.js'

describe('configuration', () => {
  test('flags win over environment variables, and sizes and durations take units', () => {
    const config = loadConfig(['--port', '4000', '--max-frame', '2mib', '--room-idle', '30s'], {
      PORT: '5000',
      DATA_DIR: '/tmp/x',
      HOST: '0.0.0.0',
    })
    assert.ok(config !== 'help')
    assert.equal(config.port, 4000)
    assert.equal(config.dataDir, '/tmp/x')
    assert.equal(config.host, '0.0.0.0')
    assert.equal(
      config.maxDocumentBytes,
      2 * 1024 * 1024,
      'the former name of --max-document-size still works',
    )
    assert.equal(config.roomIdleMs, 30_000)
    const renamed = loadConfig(['--max-document-size', '3mib'], { MAX_FRAME: '1mib' })
    assert.ok(renamed !== 'help')
    assert.equal(renamed.maxDocumentBytes, 3 * 1024 * 1024)
  })

  test('bad values get a sentence that names the option', () => {
    assert.throws(
      () => loadConfig(['--port', 'abc'], {}),
      (e: Error) => e instanceof ConfigError && /--port/.test(e.message),
    )
    assert.throws(() => loadConfig(['--max-frame', '10 parsecs'], {}), /--max-frame/)
    assert.throws(() => loadConfig(['--frobnicate'], {}), /--help/)
    assert.throws(
      () => loadConfig([], { ROOM_FRAMES_PER_SECOND: '0' }),
      /--room-frames-per-second must be greater than 0/,
    )
  })

  test('--help lists every option with its default', () => {
    const result = runPlait(['--help'])
    assert.equal(result.status, 0)
    for (const flag of [
      '--port',
      '--host',
      '--data',
      '--log-level',
      '--max-document-size',
      '--max-frame',
      '--message-burst',
      '--max-buffered',
      '--room-idle',
    ]) {
      assert.ok(result.stdout.includes(flag), `--help mentions ${flag}`)
    }
    assert.match(result.stdout, /1234/)
  })
})
