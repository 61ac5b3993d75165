// Structured JSON logs (pino). Every line about a socket carries its room and connection id; tokens
// are never logged (the auth code passes only the user id).
import type { DestinationStream, pino as Pino } from 'pino'
import { pinoModule } from './commonjs.js'
import type { LogLevel } from './options/options.js'

const { pino } = pinoModule

export type Logger = Pino.Logger

export function createLogger(level: LogLevel, destination?: DestinationStream): Logger {
  return pino({ level, base: { service: 'plait' }, timestamp: pino.stdTimeFunctions.isoTime }, destination)
}
