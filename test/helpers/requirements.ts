// A test that needs what a fresh machine may lack (chromium, redis-server, PostgreSQL, root for a tmpfs)
// skips with a one-line reason. `.ci/run` installs all of it and sets PLAIT_CI=1: there the same reason
// fails the run instead, so CI never skips a test.

/** `reason` as a skip reason, or false when nothing is missing; throws under CI. */
export function unmet(reason: string | null | false): string | false {
  if (reason === null || reason === false) return false
  if (process.env.PLAIT_CI === '1') throw new Error(`CI runs every test, but this one cannot run: ${reason}`)
  return reason
}
