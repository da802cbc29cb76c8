/**
 * A fixed number of slots shared fairly between keys (organizations): one key holds at most
 * `perKey` of them at once, waiters are served in arrival order among the keys that are under
 * their share, and a waiter gives up after `waitMs`. No queue library on npm caps holders per
 * key and bounds the wait together (p-limit and p-queue do one global limit), hence this class.
 */
export class FairSlots {
  private inUse = 0;
  private readonly held = new Map<string, number>();
  private readonly waiting: { key: string; grant: () => void }[] = [];

  constructor(
    readonly capacity: number,
    readonly perKey: number,
  ) {}

  /** Slots in use and callers waiting for one. */
  usage(): { inUse: number; queued: number } {
    return { inUse: this.inUse, queued: this.waiting.length };
  }

  /**
   * Waits for a slot for `key`; resolves with its release function, or null when none came
   * within `waitMs` or `signal` aborted first (the caller gave up).
   */
  acquire(key: string, waitMs: number, signal?: AbortSignal): Promise<(() => void) | null> {
    // Whoever waits is held back by its own key's share (dispatch grants everyone else), so a
    // caller with room takes a free slot without overtaking anyone who could have had it.
    if (this.free(key)) return Promise.resolve(this.take(key));
    return new Promise((resolve) => {
      const waiter = {
        key,
        grant: () => {
          cleanup();
          resolve(this.take(key));
        },
      };
      const giveUp = () => {
        const i = this.waiting.indexOf(waiter);
        if (i >= 0) this.waiting.splice(i, 1);
        cleanup();
        resolve(null);
        // A waiter that left may have been the one blocking others of a key with room.
        this.dispatch();
      };
      const timer = setTimeout(giveUp, waitMs);
      const cleanup = () => {
        clearTimeout(timer);
        signal?.removeEventListener("abort", giveUp);
      };
      signal?.addEventListener("abort", giveUp, { once: true });
      this.waiting.push(waiter);
      if (signal?.aborted) giveUp();
    });
  }

  private free(key: string): boolean {
    return this.inUse < this.capacity && (this.held.get(key) ?? 0) < this.perKey;
  }

  private take(key: string): () => void {
    this.inUse++;
    this.held.set(key, (this.held.get(key) ?? 0) + 1);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.inUse--;
      const n = (this.held.get(key) ?? 1) - 1;
      if (n === 0) this.held.delete(key);
      else this.held.set(key, n);
      this.dispatch();
    };
  }

  /** Grants free slots to the earliest waiters whose key is under its share. */
  private dispatch(): void {
    for (let i = 0; i < this.waiting.length && this.inUse < this.capacity;) {
      const waiter = this.waiting[i]!;
      if (this.free(waiter.key)) {
        this.waiting.splice(i, 1);
        waiter.grant();
      } else i++;
    }
  }
}
