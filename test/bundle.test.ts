// The one bundled file npm start and the plait command run (dist/plait.mjs), as it ships.
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { describe, test } from 'node:test'
import { connectProvider, synced, waitFor } from './helpers/clients.js'
import { freePort, removeDir, shippedServer, tempDir } from './helpers/server.js'

describe('the bundled server', () => {
  test('the bundled server npm start runs serves documents and imports no CommonJS package via ESM', async () => {
    // Node starts its WebAssembly CommonJS export lexer on the first ESM import of a CommonJS module and
    // keeps it for the life of the process (idle RSS 75 -> 69 MB when removed).
    const report =
      'data:text/javascript,process.on("exit",()=>console.log("lexer:"+process.moduleLoadList.some(m=>m.includes("cjs-module-lexer"))))'
    const port = await freePort()
    const dataDir = tempDir()
    const child = spawn(
      process.execPath,
      ['--import', report, shippedServer(), '--port', String(port), '--host', '127.0.0.1', '--data', dataDir],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    )
    let stdout = ''
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString()
    })
    const exited = new Promise<number | null>((resolve) => child.once('exit', resolve))
    const a = connectProvider(`ws://127.0.0.1:${port}`, 'bundled')
    const b = connectProvider(`ws://127.0.0.1:${port}`, 'bundled')
    try {
      await synced(a, b)
      a.text.insert(0, 'from the bundle')
      await waitFor(() => b.text.toString() === 'from the bundle', 'the edit to reach b')
    } finally {
      a.destroy()
      b.destroy()
      child.kill('SIGTERM')
      assert.equal(await exited, 0, 'a clean stop')
      removeDir(dataDir)
    }
    assert.match(stdout, /lexer:false/)
  })
})
