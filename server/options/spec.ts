// The shape of one entry in the option table (table.ts), and how its default is shown to a person.
import type { LogLevel, OptionPath } from './options.js'

/** How a flag or variable is read: sizes take b/kib/mib/gib, durations ms/s/m/h. */
export interface KindValue {
  int: number
  bytes: number
  ms: number
  string: string
  /** A string where '' (or no value) means none. */
  nullable: string | null
  bool: boolean
  /** Comma-separated. */
  list: readonly string[]
  level: LogLevel
}
export type Kind = keyof KindValue

export const logLevels: readonly LogLevel[] = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']

interface SpecOf<K extends Kind> {
  /** The field of the resolved, flat configuration (`server.config`) the parts read. */
  key: string
  /** Where it is in ServerOptions. */
  at: OptionPath
  flag: string
  env: string
  kind: K
  /** For createServer, and for the command line unless `cliDefault` says otherwise. */
  default: KindValue[K]
  cliDefault?: KindValue[K]
  /** One line for --help and README's table. */
  help: string
  /** Earlier names of the flag and variable, still read. */
  formerly?: { flag: string; env: string }
  /** Must be greater than 0. */
  positive?: true
  /** Says what is wrong with a value (after the option's name), or null when it is fine. */
  check?: (value: KindValue[K]) => string | null
  /** How an empty list or string default reads (default "(none)"). */
  empty?: string
}

export type OptionSpec = { [K in Kind]: SpecOf<K> }[Kind]

function unit(value: number, units: [string, number][]): string {
  for (const [name, size] of units) if (value >= size && value % size === 0) return `${value / size} ${name}`
  return String(value)
}

/** A default as README and --help show it: 64 MiB, 10 s, off, (none). */
export function shownValue(spec: OptionSpec, value: KindValue[Kind]): string {
  if (value === null || value === '') return spec.empty ?? '(none)'
  if (typeof value === 'boolean') return value ? 'on' : 'off'
  if (Array.isArray(value)) return value.length === 0 ? (spec.empty ?? '(none)') : value.join(',')
  if (typeof value === 'number' && spec.kind === 'bytes')
    return unit(value, [
      ['GiB', 1024 ** 3],
      ['MiB', 1024 ** 2],
      ['KiB', 1024],
    ])
  if (typeof value === 'number' && spec.kind === 'ms')
    return unit(value, [
      ['h', 3_600_000],
      ['m', 60_000],
      ['s', 1000],
    ])
  return String(value)
}

/** The default the command line starts from. */
export function cliDefault(spec: OptionSpec): KindValue[Kind] {
  return spec.cliDefault ?? spec.default
}
