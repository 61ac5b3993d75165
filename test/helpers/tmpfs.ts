// A real, small filesystem for full-disk tests: a tmpfs of a few MiB (needs root), and a filler file
// that takes all but a little of its space so a test fills it in a few writes.
import { execFileSync } from 'node:child_process'
import { closeSync, mkdtempSync, openSync, rmdirSync, rmSync, statfsSync, writeSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

export interface Tmpfs {
  dir: string
  /** Unmounts and removes the mount point; for a `finally`. */
  unmount(): void
}

/** Mounts a tmpfs of `size` (mount's syntax, e.g. '2m'), or returns why it cannot (not root…). */
export function mountTmpfs(size: string): Tmpfs | string {
  const dir = mkdtempSync(join(tmpdir(), 'plait-tmpfs-'))
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${size}`, 'tmpfs', dir], { stdio: 'pipe' })
  } catch (error) {
    rmdirSync(dir)
    const stderr = (error as { stderr?: Buffer }).stderr?.toString().trim()
    return `cannot mount a tmpfs here (${stderr || (error as Error).message})`
  }
  return {
    dir,
    unmount: () => {
      try {
        execFileSync('umount', [dir], { stdio: 'pipe' })
      } catch {
        // A file still open (a process that did not exit): detach now, freed when it closes.
        execFileSync('umount', ['-l', dir], { stdio: 'pipe' })
      }
      rmdirSync(dir)
    },
  }
}

/** Why no tmpfs can be mounted here (one line), or null when one can: mounts and unmounts a small one. */
export function tmpfsUnavailable(): string | null {
  const fs = mountTmpfs('64k')
  if (typeof fs === 'string') return fs
  fs.unmount()
  return null
}

export function freeBytes(dir: string): number {
  const stats = statfsSync(dir)
  return stats.bavail * stats.bsize
}

/** Writes `path` until the filesystem has at most `leaveBytes` free (all of it when 0). */
export function fillDisk(path: string, leaveBytes = 0): void {
  const chunk = Buffer.alloc(64 * 1024, 0x66)
  const fd = openSync(path, 'w')
  try {
    for (let i = 0; i < 100_000; i++) {
      const room = freeBytes(path) - leaveBytes
      if (room <= 0) return
      try {
        writeSync(fd, chunk, 0, Math.min(chunk.length, room))
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === 'ENOSPC') return
        throw error
      }
    }
  } finally {
    closeSync(fd)
  }
}

export function removeFiller(path: string): void {
  rmSync(path, { force: true })
}
