// CommonJS packages (ws, level, pino) are loaded with require, not import: the first ESM import of a
// CommonJS module makes Node start its WebAssembly export lexer, about 6 MB of RSS for the life of the
// process (an idle server: 75 -> 69 MB). Types still come from `import type`.
import { createRequire } from 'node:module'

export const requireCommonJs = createRequire(import.meta.url)
