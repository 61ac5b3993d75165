// ServerOptions (grouped, all optional) to the flat, complete configuration the parts read, checked once.
import {
  type OptionPath,
  type OptionValue,
  objectOptions,
  optionGroups,
  type ServerOptions,
} from './options.js'
import { type KindValue, logLevels, type OptionSpec } from './spec.js'
import { specs } from './table.js'

type Spec = (typeof specs)[number]

/** The resolved configuration, one flat field per option (`server.config`). */
export type Config = { -readonly [S in Spec as S['key']]: KindValue[S['kind']] }

// The table and ServerOptions must agree: every plain option has an entry, with a matching type.
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false
type Mismatched = {
  [S in Spec as S['at']]: Same<KindValue[S['kind']], OptionValue<S['at']>> extends true ? never : S['at']
}
type Expect<T extends never> = T
export type TableCoversOptions = Expect<Mismatched[keyof Mismatched] | Exclude<OptionPath, Spec['at']>>

export class ConfigError extends Error {
  override name = 'ConfigError'
}

/** How an error names an option: `limits.maxRooms` for createServer, `--max-rooms` for the command line. */
export type Naming = (spec: OptionSpec) => string
export const byOptionPath: Naming = (spec) => spec.at
export const byFlag: Naming = (spec) => `--${spec.flag}`

const allSpecs: readonly OptionSpec[] = specs

export function specFor(key: keyof Config): OptionSpec {
  const spec = allSpecs.find((s) => s.key === key)
  if (spec === undefined) throw new Error(`no option ${key}`)
  return spec
}

function copy<T>(value: T): T {
  return (Array.isArray(value) ? [...value] : value) as T
}

/** The library's defaults, flat. */
export function defaultConfig(): Config {
  return Object.fromEntries(allSpecs.map((s) => [s.key, copy(s.default)])) as Config
}

/** The value at `at` in options, or undefined. */
export function optionAt(options: ServerOptions, at: OptionPath): unknown {
  const [first, second] = at.split('.')
  const top = (options as Record<string, unknown>)[first]
  if (second === undefined) return top
  return top === undefined || top === null ? undefined : (top as Record<string, unknown>)[second]
}

/** Writes a value at `at`, creating its group. */
export function setOptionAt(options: ServerOptions, at: OptionPath, value: unknown): void {
  const target = options as Record<string, Record<string, unknown> | unknown>
  const [first, second] = at.split('.')
  if (second === undefined) {
    target[first] = value
    return
  }
  target[first] ??= {}
  ;(target[first] as Record<string, unknown>)[second] = value
}

// An old flat option (`maxRooms` at the top) or a typo is refused rather than silently ignored.
function checkKnown(options: ServerOptions): void {
  const known = new Map<string, Set<string>>([['', new Set<string>(objectOptions.top)]])
  for (const group of optionGroups) known.get('')?.add(group)
  for (const group of optionGroups) known.set(group, new Set(group === 'auth' ? objectOptions.auth : []))
  for (const spec of allSpecs) {
    const [first, second] = spec.at.split('.')
    if (second === undefined) known.get('')?.add(first)
    else known.get(first)?.add(second)
  }
  for (const [name, value] of Object.entries(options)) {
    if (!known.get('')?.has(name)) {
      const moved = allSpecs.find((s) => s.key === name || s.at.endsWith(`.${name}`))
      const hint = moved === undefined ? '' : ` (did you mean ${moved.at}?)`
      throw new ConfigError(`unknown option ${name}${hint}`)
    }
    if (!known.has(name) || value === undefined) continue
    if (typeof value !== 'object' || value === null) throw new ConfigError(`${name} must be an object`)
    for (const field of Object.keys(value)) {
      if (!known.get(name)?.has(field)) throw new ConfigError(`unknown option ${name}.${field}`)
    }
  }
}

// For callers without the types (JavaScript, JSON): a wrong type fails here, not deep in a socket.
function typeProblem(spec: OptionSpec, value: unknown): string | null {
  switch (spec.kind) {
    case 'int':
    case 'bytes':
    case 'ms':
      return typeof value === 'number' && Number.isFinite(value) ? null : 'must be a number'
    case 'bool':
      return typeof value === 'boolean' ? null : 'must be true or false'
    case 'string':
      return typeof value === 'string' ? null : 'must be a string'
    case 'nullable':
      return value === null || typeof value === 'string' ? null : 'must be a string or null'
    case 'list':
      return Array.isArray(value) && value.every((v) => typeof v === 'string')
        ? null
        : 'must be a list of strings'
    case 'level':
      return logLevels.includes(value as never) ? null : `must be one of ${logLevels.join(', ')}`
  }
}

function valueProblem(spec: OptionSpec, value: unknown): string | null {
  if (spec.positive && !((value as number) > 0)) return 'must be greater than 0'
  return spec.check === undefined ? null : (spec.check as (v: unknown) => string | null)(value)
}

/** Checks relations between options; throws ConfigError with a sentence a person can act on. */
export function validateConfig(config: Config, name: Naming = byFlag): Config {
  for (const spec of allSpecs) {
    const problem = valueProblem(spec, config[spec.key as keyof Config])
    if (problem !== null) throw new ConfigError(`${name(spec)} ${problem}`)
  }
  if (config.headersTimeoutMs > config.requestTimeoutMs) {
    const [headers, request] = [specFor('headersTimeoutMs'), specFor('requestTimeoutMs')]
    throw new ConfigError(`${name(headers)} must not be longer than ${name(request)}`)
  }
  return config
}

const loopbackHosts = new Set(['127.0.0.1', 'localhost', '::1', '[::1]'])

export function isLoopbackHost(host: string): boolean {
  return loopbackHosts.has(host) || /^127\.\d+\.\d+\.\d+$/.test(host)
}

/**
 * Refuses a server that anyone could write to by accident. Apart from resolveOptions because it holds
 * only for a server about to start (loadConfig reads any flags), and so the command line, which calls
 * it first, names its flags.
 */
export function checkAuth(config: Config, hasHook: boolean, name: Naming = byOptionPath): void {
  const [secret, jwks] = [specFor('authSecret'), specFor('authJwks')]
  if (config.authSecret !== null && config.authJwks !== null)
    throw new ConfigError(`set either ${name(secret)} (HS256) or ${name(jwks)} (public keys), not both`)
  // Open mode (no auth) is for a loopback host, or an explicit allowAnonymous.
  const open = !hasHook && config.authSecret === null && config.authJwks === null
  if (!open || isLoopbackHost(config.host) || config.allowAnonymous) return
  throw new ConfigError(
    `refusing to serve ${config.host} without auth: set ${name(secret)} or ${name(jwks)}, or pass ${name(specFor('allowAnonymous'))} to let anyone read and write`,
  )
}

/** Refuses half a cluster: Redis without PostgreSQL or the reverse (a server about to start, as checkAuth). */
export function checkCluster(config: Config, name: Naming = byOptionPath): void {
  const [redis, database] = [specFor('redisUrl'), specFor('databaseUrl')]
  if ((config.redisUrl === null) !== (config.databaseUrl === null))
    throw new ConfigError(
      `cluster mode needs both ${name(redis)} (recent updates, fan-out) and ${name(database)} (snapshots, versions)`,
    )
}

/** The complete, checked configuration for these options (defaults where they say nothing). */
export function resolveOptions(options: ServerOptions, name: Naming = byOptionPath): Config {
  checkKnown(options)
  const config = defaultConfig() as Record<string, unknown>
  for (const spec of allSpecs) {
    const value = optionAt(options, spec.at)
    if (value === undefined) continue
    const problem = typeProblem(spec, value)
    if (problem !== null) throw new ConfigError(`${name(spec)} ${problem}`)
    config[spec.key] = copy(value)
  }
  return validateConfig(config as Config, name)
}
