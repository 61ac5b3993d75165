// The process: read configuration, start the server, stop cleanly on SIGTERM/SIGINT.

import { createLogger } from '../logger.js'
import { byFlag, checkAuth, checkCluster } from '../options/resolve.js'
import { createServer } from '../server.js'
import { runBackupCommand } from './backup-command.js'
import { ConfigError, helpText, parseCommandLine } from './config.js'
import { runImportYLeveldbCommand } from './import-y-leveldb-command.js'
import { runTokenCommand } from './token-command.js'

async function main(argv: string[]): Promise<number> {
  if (argv[0] === 'token') {
    try {
      process.stdout.write(`${await runTokenCommand(argv.slice(1), process.env)}\n`)
      return 0
    } catch (error) {
      process.stderr.write(`plait token: ${(error as Error).message}\n`)
      return 2
    }
  }
  if (argv[0] === 'import-y-leveldb') {
    return runImportYLeveldbCommand(argv.slice(1), {
      out: (line) => process.stdout.write(`${line}\n`),
      err: (line) => process.stderr.write(`${line}\n`),
    })
  }
  if (argv[0] === 'export' || argv[0] === 'import') {
    const command = argv[0]
    try {
      const summary = await runBackupCommand(command, argv.slice(1), (line) =>
        process.stderr.write(`${line}\n`),
      )
      process.stdout.write(`${summary}\n`)
      return 0
    } catch (error) {
      process.stderr.write(`plait ${command}: ${(error as Error).message}\n`)
      // A usage mistake is 2, like the server's; a locked directory or a bad file is 1.
      return error instanceof ConfigError ||
        (error as { code?: string }).code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION'
        ? 2
        : 1
    }
  }
  let parsed: ReturnType<typeof parseCommandLine>
  try {
    parsed = parseCommandLine(argv, process.env)
    if (parsed !== 'help') {
      checkAuth(parsed.config, false, byFlag)
      checkCluster(parsed.config, byFlag)
    }
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`plait: ${error.message}\n`)
      return 2
    }
    throw error
  }
  if (parsed === 'help') {
    process.stdout.write(`${helpText()}\n`)
    return 0
  }
  const { options, config } = parsed
  const log = createLogger(config.logLevel)
  let server: ReturnType<typeof createServer>
  try {
    server = createServer({ ...options, logger: log })
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`plait: ${error.message}\n`)
      return 2
    }
    throw error
  }
  try {
    const address = await server.listen()
    const shown = address.family === 'IPv6' ? `[${address.address}]` : address.address
    log.info(
      { port: address.port, host: address.address, data: config.dataDir },
      `plait listening on http://${shown}:${address.port}`,
    )
  } catch (error) {
    process.stderr.write(`plait: ${(error as Error).message}\n`)
    return 1
  }

  let stopping = false
  const stop = (signal: string) => {
    if (stopping) {
      log.warn({ signal }, 'second signal: exiting now')
      process.exit(1)
    }
    stopping = true
    log.info({ signal }, 'shutting down: closing sockets, writing rooms')
    const started = Date.now()
    server.close().then(
      () => {
        log.info({ ms: Date.now() - started }, 'stopped cleanly')
        process.exit(0)
      },
      (error: unknown) => {
        // A StorageFailedError names the rooms and counts that were not written.
        log.error({ err: error }, 'shutdown failed')
        process.stderr.write(`plait: ${(error as Error).message}\n`)
        process.exit(1)
      },
    )
  }
  process.on('SIGTERM', () => stop('SIGTERM'))
  process.on('SIGINT', () => stop('SIGINT'))
  return -1
}

main(process.argv.slice(2)).then(
  (code) => {
    if (code >= 0) process.exit(code)
  },
  (error: unknown) => {
    process.stderr.write(`plait: ${(error as Error).stack ?? String(error)}\n`)
    process.exit(1)
  },
)
