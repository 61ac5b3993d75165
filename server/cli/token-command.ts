// `plait token`: mints an HS256 access token for operators, demos and tests, signed with AUTH_SECRET.
import { parseArgs } from 'node:util'
import { SignJWT } from 'jose'
import type { Access } from '../auth/authenticators.js'
import { ConfigError } from './config.js'

export interface TokenRequest {
  secret: string
  sub: string
  docs: Record<string, Access>
  ttlSeconds: number
  issuer?: string
  audience?: string
  notBeforeSeconds?: number
}

export async function mintToken(request: TokenRequest): Promise<string> {
  const now = Math.floor(Date.now() / 1000)
  let jwt = new SignJWT({ docs: request.docs })
    .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
    .setSubject(request.sub)
    .setIssuedAt(now)
    .setExpirationTime(now + request.ttlSeconds)
  if (request.notBeforeSeconds !== undefined) jwt = jwt.setNotBefore(now + request.notBeforeSeconds)
  if (request.issuer) jwt = jwt.setIssuer(request.issuer)
  if (request.audience) jwt = jwt.setAudience(request.audience)
  return jwt.sign(new TextEncoder().encode(request.secret))
}

const ttlUnits: Record<string, number> = { s: 1, m: 60, h: 3600, d: 86400 }

export function parseTtl(raw: string): number {
  const match = /^(\d+)([smhd]?)$/.exec(raw.trim())
  if (!match) throw new ConfigError(`--ttl "${raw}" is not a duration like 90s, 15m, 1h or 7d`)
  return Number(match[1]) * ttlUnits[match[2] || 's']
}

export const tokenHelp = `plait token — mint an access token (HS256, signed with AUTH_SECRET)

Usage: plait token --sub <user> --doc <pattern> [--doc <pattern>...] [--write] [--ttl 1h]

  --sub <user>      the user id (logged by the server)
  --doc <pattern>   a room name, or a prefix ending in * (team-a/*); repeat for several
  --write           grant write access to the patterns (default: read only)
  --ttl <duration>  lifetime: 90s, 15m, 1h, 7d (default 1h)
  --secret <s>      the secret (default: the AUTH_SECRET environment variable)
  --issuer <iss>    set iss (default: AUTH_ISSUER)
  --audience <aud>  set aud (default: AUTH_AUDIENCE)

Example: plait token --sub alice --doc 'team-a/*' --write --ttl 1h`

export async function runTokenCommand(
  argv: string[],
  env: Record<string, string | undefined>,
): Promise<string> {
  const { values } = parseArgs({
    args: argv,
    options: {
      sub: { type: 'string' },
      doc: { type: 'string', multiple: true },
      write: { type: 'boolean' },
      read: { type: 'boolean' },
      ttl: { type: 'string' },
      secret: { type: 'string' },
      issuer: { type: 'string' },
      audience: { type: 'string' },
      help: { type: 'boolean' },
    },
    strict: true,
  })
  if (values.help) return tokenHelp
  const secret = values.secret ?? env.AUTH_SECRET
  if (!secret)
    throw new ConfigError('no secret: set AUTH_SECRET (the same one the server uses) or pass --secret')
  if (!values.sub) throw new ConfigError('--sub <user> is required')
  if (!values.doc || values.doc.length === 0)
    throw new ConfigError('at least one --doc <pattern> is required')
  const access: Access = values.write ? 'write' : 'read'
  // fromEntries defines own properties: a pattern like "__proto__" stays a room pattern.
  const docs: Record<string, Access> = Object.fromEntries(values.doc.map((pattern) => [pattern, access]))
  return mintToken({
    secret,
    sub: values.sub,
    docs,
    ttlSeconds: parseTtl(values.ttl ?? '1h'),
    issuer: values.issuer ?? env.AUTH_ISSUER,
    audience: values.audience ?? env.AUTH_AUDIENCE,
  })
}
