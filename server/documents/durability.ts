// Persist-then-publish bookkeeping of one room: which of the changes applied in memory are durable,
// the messages that must wait until they are (a first sync showing not-yet-written state, a member's
// awareness echo that doubles as its save receipt), and who waits for the room to settle.

export interface Recipient {
  send(message: Uint8Array): void
}

interface Deferred<Member> {
  seq: number
  member: Member
  message: Uint8Array
}

export class Durability<Member extends Recipient> {
  /** Changes applied in memory, counted in log order, and how many of them are durable. */
  applied = 0
  durable = 0
  private deferred: Deferred<Member>[] = []
  private waiters: (() => void)[] = []
  private durableWaiters: { seq: number; resolve: () => void; reject: (error: Error) => void }[] = []

  /** `settled`: nothing applied is still unwritten, and nothing else (a compaction) is in flight. */
  constructor(private readonly isSettled: () => boolean) {}

  get caughtUp(): boolean {
    return this.durable >= this.applied
  }

  /** Counts one more applied change; returns its position. */
  next(): number {
    return ++this.applied
  }

  /** Sends now when everything applied up to `seq` is durable, or once it is. */
  sendWhenDurable(member: Member, message: Uint8Array, seq = this.applied): void {
    if (this.durable >= seq) member.send(message)
    else this.deferred.push({ seq, member, message })
  }

  /** Resolves once the changes up to `seq` are on disk; rejects if the room fails first. */
  whenDurable(seq = this.applied): Promise<void> {
    if (this.durable >= seq) return Promise.resolve()
    return new Promise((resolve, reject) => this.durableWaiters.push({ seq, resolve, reject }))
  }

  /** Nothing more will become durable (a write failed): whoever waits is told why. */
  failed(error: Error): void {
    const waiters = this.durableWaiters
    this.durableWaiters = []
    for (const { reject } of waiters) reject(error)
    this.deferred = []
  }

  /** Changes up to `seq` are on disk: release what waited for them. */
  persisted(seq: number): void {
    this.durable = seq
    if (this.durableWaiters.length > 0) {
      const ready = this.durableWaiters.filter((w) => w.seq <= seq)
      this.durableWaiters = this.durableWaiters.filter((w) => w.seq > seq)
      for (const { resolve } of ready) resolve()
    }
    if (this.deferred.length === 0) return
    let released = 0
    for (const entry of this.deferred) {
      if (entry.seq > this.durable) break
      entry.member.send(entry.message)
      released++
    }
    this.deferred.splice(0, released)
  }

  forget(member: Member): void {
    if (this.deferred.length > 0) this.deferred = this.deferred.filter((d) => d.member !== member)
  }

  forgetAll(): void {
    this.deferred = []
  }

  whenSettled(): Promise<void> {
    if (this.isSettled()) return Promise.resolve()
    return new Promise((resolve) => this.waiters.push(resolve))
  }

  /** Call when the room may have settled. */
  notify(): void {
    if (this.waiters.length === 0 || !this.isSettled()) return
    const waiters = this.waiters
    this.waiters = []
    for (const resolve of waiters) resolve()
  }
}
