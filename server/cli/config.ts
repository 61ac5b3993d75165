// The command line: flags and environment variables to ServerOptions, through the option table.
// Nothing else in plait reads process.env.
import { parseArgs } from 'node:util'
import type { ServerOptions } from '../options/options.js'
import {
  byFlag,
  type Config,
  ConfigError,
  defaultConfig,
  resolveOptions,
  setOptionAt,
} from '../options/resolve.js'
import { type Kind, type KindValue, logLevels, type OptionSpec } from '../options/spec.js'
import { specs } from '../options/table.js'

export type { LogLevel } from '../options/options.js'
export { helpText } from '../options/render.js'
export { type Config, ConfigError, validateConfig } from '../options/resolve.js'

/** What createServer uses for an option it is not given (the command line differs only in `demo`). */
export const defaults: Readonly<Config> = defaultConfig()

const allSpecs: readonly OptionSpec[] = specs

const units: Record<string, number> = {
  b: 1,
  kb: 1e3,
  kib: 1024,
  mb: 1e6,
  mib: 1024 ** 2,
  gb: 1e9,
  gib: 1024 ** 3,
}
const durations: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }

function parseNumber(raw: string, table: Record<string, number> | null, what: string): number {
  const match = /^\s*(\d+(?:\.\d+)?)\s*([a-z]*)\s*$/i.exec(raw)
  const unit = match?.[2]?.toLowerCase() ?? ''
  const factor = unit === '' ? 1 : table?.[unit]
  if (!match || factor === undefined) {
    const hint = table ? ` (a number, optionally with ${Object.keys(table).join('/')})` : ' (a whole number)'
    throw new ConfigError(`${what}: "${raw}" is not valid${hint}`)
  }
  const value = Number(match[1]) * factor
  if (!Number.isSafeInteger(Math.round(value))) throw new ConfigError(`${what}: "${raw}" is too large`)
  return Math.round(value)
}

function parseValue(spec: OptionSpec, raw: string, source: string): KindValue[Kind] {
  const what = `${source} (${spec.help})`
  switch (spec.kind) {
    case 'int':
      return parseNumber(raw, null, what)
    case 'bytes':
      return parseNumber(raw, units, what)
    case 'ms':
      return parseNumber(raw, durations, what)
    case 'bool': {
      const v = raw.toLowerCase()
      if (['1', 'true', 'yes', 'on', ''].includes(v)) return true
      if (['0', 'false', 'no', 'off'].includes(v)) return false
      throw new ConfigError(`${what}: "${raw}" is not true or false`)
    }
    case 'list':
      return raw
        .split(',')
        .map((s) => s.trim())
        .filter((s) => s.length > 0)
    case 'level': {
      const level = logLevels.find((l) => l === raw)
      if (level === undefined)
        throw new ConfigError(`${what}: "${raw}" is not one of ${logLevels.join(', ')}`)
      return level
    }
    case 'nullable':
      return raw === '' ? null : raw
    case 'string':
      return raw
  }
}

/**
 * Reads flags and environment variables (flags win) into the options createServer takes, checked, with
 * errors that name the flag; or 'help' for --help. Options the command line does not set are left out,
 * except those whose command-line default differs from the library's (the demo is on).
 */
export function parseCommandLine(
  argv: string[],
  env: Record<string, string | undefined>,
): { options: ServerOptions; config: Config } | 'help' {
  const flags: Record<string, { type: 'string' | 'boolean' }> = { help: { type: 'boolean' } }
  for (const spec of allSpecs) {
    for (const flag of [spec.flag, spec.formerly?.flag]) {
      if (flag === undefined) continue
      flags[flag] = { type: spec.kind === 'bool' ? 'boolean' : 'string' }
      if (spec.kind === 'bool') flags[`no-${flag}`] = { type: 'boolean' }
    }
  }
  let values: Record<string, string | boolean | undefined>
  try {
    values = parseArgs({ args: argv, options: flags, strict: true, allowPositionals: false })
      .values as typeof values
  } catch (error) {
    throw new ConfigError(`${(error as Error).message}. Run with --help to see the options.`)
  }
  if (values.help) return 'help'
  const options: ServerOptions = {}
  for (const spec of allSpecs) {
    let value: KindValue[Kind] | undefined = spec.cliDefault
    const former = spec.formerly
    const envName = env[spec.env] === undefined && former !== undefined ? former.env : spec.env
    const fromEnv = env[envName]
    if (fromEnv !== undefined) value = parseValue(spec, fromEnv, envName)
    const flagName = values[spec.flag] === undefined && former !== undefined ? former.flag : spec.flag
    const fromFlag = values[flagName]
    if (spec.kind === 'bool') {
      if (fromFlag === true) value = true
      if (values[`no-${spec.flag}`] === true || values[`no-${former?.flag}`] === true) value = false
    } else if (typeof fromFlag === 'string') {
      value = parseValue(spec, fromFlag, `--${flagName}`)
    }
    if (value !== undefined) setOptionAt(options, spec.at, value)
  }
  return { options, config: resolveOptions(options, byFlag) }
}

/** The resolved configuration the command line asks for (flat; see parseCommandLine for the options). */
export function loadConfig(argv: string[], env: Record<string, string | undefined>): Config | 'help' {
  const parsed = parseCommandLine(argv, env)
  return parsed === 'help' ? 'help' : parsed.config
}

/** ServerOptions from flags and environment variables, as the plait command reads them; 'help' for --help. */
export function optionsFromCommandLine(
  argv: string[],
  env: Record<string, string | undefined>,
): ServerOptions | 'help' {
  const parsed = parseCommandLine(argv, env)
  return parsed === 'help' ? 'help' : parsed.options
}
