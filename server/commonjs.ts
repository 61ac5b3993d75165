// CommonJS packages (ws, level, pino) are loaded with require, not import: the first ESM import of a
// CommonJS module makes Node start its WebAssembly export lexer, about 6 MB of RSS for the life of the
// process (an idle server: 75 -> 69 MB). Types still come from `import type`.
// The bundle `npm start` runs (dist/plait.mjs, built with PLAIT_BUNDLE defined) carries ws and pino
// inside it: resolving and compiling their ~40 files as packages took ~20 ms of every start. level
// stays a package: classic-level finds its native build relative to its own directory.
import { createRequire } from 'node:module'

declare const PLAIT_BUNDLE: true | undefined

export const requireCommonJs = createRequire(import.meta.url)

const inBundle = typeof PLAIT_BUNDLE !== 'undefined'

// esbuild bundles what the plain `require` calls name; tsc's output takes the other branch.
export const wsModule = (inBundle ? require('ws') : requireCommonJs('ws')) as typeof import('ws')
export const pinoModule = (inBundle ? require('pino') : requireCommonJs('pino')) as typeof import('pino')
