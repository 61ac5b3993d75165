// Reference target: Hocuspocus with its SQLite extension on a file. Plain JS so the server runs
// without a TypeScript loader, like the other two targets. Usage: node hocuspocus-server.mjs <port> <host> <db file>
import { SQLite } from '@hocuspocus/extension-sqlite'
import { Server } from '@hocuspocus/server'

const [port, host, database] = process.argv.slice(2)
if (!port || !host || !database) {
  console.error('usage: hocuspocus-server.mjs <port> <host> <sqlite file>')
  process.exit(2)
}

const server = new Server({
  port: Number(port),
  address: host,
  quiet: true,
  extensions: [new SQLite({ database })],
})
await server.listen()
console.log(`hocuspocus listening on ${host}:${port}`)
