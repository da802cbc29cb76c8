/** A FIFO async lock: `run` calls wait for the ones before them. */
export class Mutex {
  private tail: Promise<unknown> = Promise.resolve();

  run<T>(fn: () => Promise<T>): Promise<T> {
    const result = this.tail.then(fn, fn);
    this.tail = result.catch(() => undefined);
    return result;
  }
}

/** One lock per key, made on first use and dropped again when nobody holds or waits on it. */
class PerKey<L> {
  private readonly locks = new Map<string, { lock: L; users: number }>();

  constructor(private readonly make: () => L) {}

  async use<T>(key: string, fn: (lock: L) => Promise<T>): Promise<T> {
    let entry = this.locks.get(key);
    if (!entry) {
      entry = { lock: this.make(), users: 0 };
      this.locks.set(key, entry);
    }
    entry.users++;
    try {
      return await fn(entry.lock);
    } finally {
      entry.users--;
      if (entry.users === 0) this.locks.delete(key);
    }
  }
}

/** One Mutex per key. */
export class KeyedMutex {
  private readonly locks = new PerKey(() => new Mutex());

  run<T>(key: string, fn: () => Promise<T>): Promise<T> {
    return this.locks.use(key, (mutex) => mutex.run(fn));
  }
}

/**
 * Readers-writer lock: any number of readers together, or one writer alone. A waiting writer
 * holds back readers that arrive after it, so a steady stream of readers cannot starve it.
 */
export class RwLock {
  private readers = 0;
  private writer = false;
  private readonly queue: { write: boolean; grant: () => void }[] = [];

  async read<T>(fn: () => Promise<T>): Promise<T> {
    await this.acquire(false);
    try {
      return await fn();
    } finally {
      this.readers--;
      this.dispatch();
    }
  }

  async write<T>(fn: () => Promise<T>): Promise<T> {
    await this.acquire(true);
    try {
      return await fn();
    } finally {
      this.writer = false;
      this.dispatch();
    }
  }

  private acquire(write: boolean): Promise<void> {
    if (this.queue.length === 0 && !this.writer && (write ? this.readers === 0 : true)) {
      if (write) this.writer = true;
      else this.readers++;
      return Promise.resolve();
    }
    return new Promise((grant) => this.queue.push({ write, grant }));
  }

  private dispatch(): void {
    while (this.queue.length > 0 && !this.writer) {
      const next = this.queue[0]!;
      if (next.write) {
        if (this.readers > 0) return;
        this.queue.shift();
        this.writer = true;
        next.grant();
        return;
      }
      this.queue.shift();
      this.readers++;
      next.grant();
    }
  }
}

/** One RwLock per key. */
export class KeyedRwLock {
  private readonly locks = new PerKey(() => new RwLock());

  read<T>(key: string, fn: () => Promise<T>): Promise<T> {
    return this.locks.use(key, (lock) => lock.read(fn));
  }

  write<T>(key: string, fn: () => Promise<T>): Promise<T> {
    return this.locks.use(key, (lock) => lock.write(fn));
  }
}

/** At most `size` holders at a time; the others wait in arrival order. */
export class Semaphore {
  private available: number;
  private readonly waiting: (() => void)[] = [];

  constructor(private readonly size: number) {
    this.available = size;
  }

  /** Holders now and callers waiting for a turn. */
  usage(): { inUse: number; queued: number } {
    return { inUse: this.size - this.available, queued: this.waiting.length };
  }

  async run<T>(fn: () => Promise<T>): Promise<T> {
    if (this.available > 0) this.available--;
    else await new Promise<void>((resolve) => this.waiting.push(resolve));
    try {
      return await fn();
    } finally {
      const next = this.waiting.shift();
      if (next) next();
      else this.available++;
    }
  }
}
