// Response headers for the demo pages: the browser runs only the server's own scripts, talks only to this
// server, and never shows the pages inside another site's frame (clickjacking) or sniffs a file's type.
import type { MiddlewareHandler } from 'hono'

const contentSecurityPolicy = [
  "default-src 'self'",
  "script-src 'self'",
  // CodeMirror and Tiptap mount their styles as <style> elements and remote cursors are coloured with style
  // attributes; a stylesheet cannot run code, scripts stay 'self' only.
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data:",
  // The provider connects a WebSocket to this same host ('self' does not cover ws: in every browser).
  "connect-src 'self' ws: wss:",
  "worker-src 'self'",
  "object-src 'none'",
  "base-uri 'self'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ')

export const securityHeaders: Readonly<Record<string, string>> = {
  'Content-Security-Policy': contentSecurityPolicy,
  'X-Content-Type-Options': 'nosniff',
  'X-Frame-Options': 'DENY',
  'Referrer-Policy': 'no-referrer',
  'Cross-Origin-Opener-Policy': 'same-origin',
}

/** Adds the security headers to every response of the app it is used in. */
export const withSecurityHeaders: MiddlewareHandler = async (c, next) => {
  await next()
  for (const [name, value] of Object.entries(securityHeaders)) c.res.headers.set(name, value)
}
