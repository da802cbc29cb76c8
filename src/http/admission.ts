import { FairSlots } from "../lib/fair-slots.js";

/** What `Admission.run` answers when no slot came within the wait limit. */
export const NOT_ADMITTED = Symbol("not admitted");

/**
 * At most `size` GraphQL operations over HTTP execute at once, and one caller (a user or agent
 * token) at most half of them, so one busy client or organization cannot starve the others;
 * the rest wait in arrival order, up to `waitMs`, then are refused (503, Retry-After). Each turn
 * starts on a later turn of the event loop (setImmediate), so between two batches of operations
 * the loop reads its sockets again: probes, health checks and WebSocket frames are answered
 * within one batch's time however many readers are queued. On SQLite an operation runs without
 * a real I/O wait, so without the turns one loop iteration would serve every queued request
 * before anything else got a word in.
 */
export class Admission {
  private readonly slots: FairSlots;

  constructor(
    private readonly size: number,
    private readonly waitMs: number,
  ) {
    this.slots = new FairSlots(size, Math.max(1, Math.ceil(size / 2)));
  }

  async run<T>(caller: string, work: () => Promise<T>, signal?: AbortSignal): Promise<T | typeof NOT_ADMITTED> {
    const release = await this.slots.acquire(caller, this.waitMs, signal);
    if (!release) return NOT_ADMITTED;
    try {
      await new Promise<void>((resolve) => setImmediate(resolve));
      return await work();
    } finally {
      release();
    }
  }

  usage(): { inUse: number; queued: number; capacity: number } {
    return { ...this.slots.usage(), capacity: this.size };
  }
}
