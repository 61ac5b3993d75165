// A progress line for long backups, at most once a second (everyMs), and the total at the end.
export class Progress {
  private last = Date.now()
  rooms = 0
  versions = 0
  skipped = 0

  constructor(
    private readonly verb: string,
    private readonly write: (line: string) => void,
    private readonly everyMs = 1000,
  ) {}

  /** Called after each room; says where things stand when a second has passed. */
  tick(): void {
    const now = Date.now()
    if (now - this.last < this.everyMs) return
    this.last = now
    this.write(`${this.summary()}…`)
  }

  summary(): string {
    const skipped = this.skipped > 0 ? `, skipped ${this.skipped} existing rooms` : ''
    return `${this.verb} ${this.rooms} rooms and ${this.versions} versions${skipped}`
  }
}
