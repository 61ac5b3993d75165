// Exponential backoff with full jitter: retries of many events (or many servers) spread out instead of
// hitting a receiver that just came back all at the same moment.

/** The wait before attempt `attempt + 1`, after `attempt` failures (1, 2, …). */
export function retryDelay(attempt: number, baseMs: number, maxMs: number, random = Math.random): number {
  const ceiling = Math.min(maxMs, baseMs * 2 ** Math.min(attempt - 1, 40))
  return Math.round(random() * ceiling)
}
