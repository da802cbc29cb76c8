import { Semaphore } from "../lib/mutex.js";

/**
 * At most `size` GraphQL operations over HTTP execute at once; the others wait their turn in
 * arrival order. Each turn starts on a later turn of the event loop (setImmediate), so between
 * two batches of operations the loop reads its sockets again: probes, health checks and
 * WebSocket frames are answered within one batch's time however many readers are queued. On
 * SQLite an operation runs without a real I/O wait, so without the turns one loop iteration
 * would serve every queued request before anything else got a word in.
 */
export class Admission {
  private readonly slots: Semaphore;

  constructor(size: number) {
    this.slots = new Semaphore(size);
  }

  run<T>(work: () => Promise<T>): Promise<T> {
    return this.slots.run(async () => {
      await new Promise<void>((resolve) => setImmediate(resolve));
      return work();
    });
  }

  usage(): { inUse: number; queued: number } {
    return this.slots.usage();
  }
}
