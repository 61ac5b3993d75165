// `plait export` and `plait import`: a data directory (or a cluster's Redis and PostgreSQL) to one backup
// file and back (server/backup/). On LevelDB both open the directory themselves, so its lock refuses them
// while a server uses it; a cluster's store has several writers by design, so they may run beside it.
import { parseArgs } from 'node:util'
import { ClusterStore } from '../../persistence/cluster/cluster-store.js'
import { LevelStore } from '../../persistence/level/level-store.js'
import type { DocumentStore } from '../../persistence/store.js'
import { exportStore } from '../backup/export.js'
import { importInto } from '../backup/import.js'
import { ConfigError } from './config.js'

export const exportHelp = `plait export — every room and its versions to one backup file

Usage: plait export --data <dir> --out <file>
       plait export --redis <url> --database <url> --out <file>

  --data <dir>   the data directory (stop the server using it first)
  --redis, --database   a cluster's Redis and PostgreSQL instead (nodes may keep running)
  --out <file>   where to write the backup (NDJSON, format 1; see README "Backup and migration")`

export const importHelp = `plait import — a backup file into a data directory

Usage: plait import --data <dir> <file> [--overwrite]
       plait import --redis <url> --database <url> <file> [--overwrite]

  --data <dir>   the data directory (created if missing; stop the server using it first)
  --redis, --database   a cluster's Redis and PostgreSQL instead: from LevelDB to a cluster
  --overwrite    replace rooms the directory already has (their versions too); without it they are skipped`

/** Runs the subcommand; resolves with the summary line, progress goes to `report` (stderr). */
export async function runBackupCommand(
  command: 'export' | 'import',
  argv: string[],
  report: (line: string) => void,
): Promise<string> {
  const { values, positionals } = parseArgs({
    args: argv,
    options: {
      data: { type: 'string' },
      redis: { type: 'string' },
      database: { type: 'string' },
      out: { type: 'string' },
      overwrite: { type: 'boolean' },
      help: { type: 'boolean' },
    },
    allowPositionals: command === 'import',
    strict: true,
  })
  if (values.help) return command === 'export' ? exportHelp : importHelp
  const cluster = values.redis !== undefined || values.database !== undefined
  if (cluster && (!values.redis || !values.database))
    throw new ConfigError('a cluster needs both --redis <url> and --database <url>')
  if (cluster && values.data) throw new ConfigError('name either --data or --redis and --database, not both')
  if (!cluster && !values.data) throw new ConfigError('--data <dir> (or --redis and --database) is required')
  let file: string
  if (command === 'export') {
    if (!values.out) throw new ConfigError('--out <file> is required')
    file = values.out
  } else {
    if (positionals.length !== 1) throw new ConfigError('name one backup file to import')
    file = positionals[0]
  }
  const store: DocumentStore =
    values.redis && values.database
      ? new ClusterStore({
          redisUrl: values.redis,
          databaseUrl: values.database,
          nodeId: `plait-${command}-${process.pid}`,
        })
      : new LevelStore(values.data ?? '', { syncWrites: false })
  await store.open()
  try {
    const progress =
      command === 'export'
        ? await exportStore(store, file, report)
        : await importInto(store, file, { overwrite: values.overwrite === true }, report)
    return progress.summary()
  } finally {
    await store.close()
  }
}
