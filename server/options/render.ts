// The option table for people: `plait --help`, and the table in README.md between the two markers
// (`npm run docs:options` writes it; test/options.test.ts fails when README is stale).
import { cliDefault, type OptionSpec, shownValue } from './spec.js'
import { specs } from './table.js'

const allSpecs: readonly OptionSpec[] = specs

export const readmeMarkers = {
  begin: '<!-- options:begin (generated from server/options/table.ts by `npm run docs:options`) -->',
  end: '<!-- options:end -->',
} as const

function flagsOf(spec: OptionSpec, value: string): string {
  if (spec.kind !== 'bool') return `--${spec.flag} ${value}`
  return cliDefault(spec) === true ? `--${spec.flag} / --no-${spec.flag}` : `--${spec.flag}`
}

export function helpText(): string {
  const rows = allSpecs.map((spec) => {
    const formerly = spec.formerly === undefined ? '' : ` (formerly --${spec.formerly.flag})`
    return [flagsOf(spec, '<v>'), spec.env, shownValue(spec, cliDefault(spec)), `${spec.help}${formerly}`]
  })
  const width = (column: number) => Math.max(...rows.map((row) => row[column].length))
  const widths = [width(0), width(1), width(2)]
  return [
    'plait — a Yjs sync server (y-websocket compatible) that keeps every update on disk.',
    '',
    'Usage: plait [options]        start the server',
    '       plait token [options]  mint an access token (plait token --help)',
    '       plait import-y-leveldb SRC --data DIR',
    "                              import a y-websocket server's YPERSISTENCE directory",
    '                              (plait import-y-leveldb --help)',
    '       plait export --data <dir> --out <file>   every room and version to one backup file',
    '       plait import --data <dir> <file>         a backup file into a data directory',
    '',
    'Options (flag, environment variable, default):',
    ...rows.map((row) => `  ${row.map((cell, i) => cell.padEnd(widths[i] ?? 0)).join(' ')}`),
    `  ${'--help'.padEnd(widths[0])} show this text`,
    '',
    'Sizes take b/kib/mib/gib (e.g. 16mib); durations take ms/s/m/h (e.g. 30s).',
  ].join('\n')
}

const code = (text: string) => `\`${text}\``
const cell = (text: string) => text.replaceAll('|', '\\|')

/** README's options table, markers included. */
export function optionsTable(): string {
  const header = ['flag', 'env', 'createServer option', 'default', 'meaning']
  const rows = allSpecs.map((spec) => {
    const flags = flagsOf(spec, '').trim().split(' / ').map(code).join(' / ')
    const envs =
      spec.formerly === undefined ? code(spec.env) : `${code(spec.env)} (${code(spec.formerly.env)})`
    const flagCell = spec.formerly === undefined ? flags : `${flags} (${code(`--${spec.formerly.flag}`)})`
    const shown = shownValue(spec, cliDefault(spec))
    const library = shownValue(spec, spec.default)
    const defaults = shown === library ? shown : `${shown} (${library} in createServer)`
    return [flagCell, envs, code(spec.at), defaults, spec.help].map(cell)
  })
  const widths = header.map((_, i) => Math.max(header[i].length, ...rows.map((row) => row[i].length)))
  // Every column padded but the last, so the source stays readable without a wide last column.
  const line = (row: string[]) =>
    `| ${row.map((text, i) => (i === row.length - 1 ? text : text.padEnd(widths[i]))).join(' | ')} |`
  return [
    readmeMarkers.begin,
    line(header),
    line(widths.map((w, i) => '-'.repeat(i === widths.length - 1 ? 3 : w))),
    ...rows.map(line),
    readmeMarkers.end,
  ].join('\n')
}

/** README with its options table replaced by the current one; throws when the markers are missing. */
export function withOptionsTable(readme: string): string {
  const begin = readme.indexOf(readmeMarkers.begin)
  const end = readme.indexOf(readmeMarkers.end)
  if (begin < 0 || end < begin)
    throw new Error(`README.md has no ${readmeMarkers.begin} … ${readmeMarkers.end}`)
  return readme.slice(0, begin) + optionsTable() + readme.slice(end + readmeMarkers.end.length)
}
