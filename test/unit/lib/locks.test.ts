import { describe, expect, it } from "vitest";
import { KeyedMutex, KeyedRwLock, Mutex, RwLock, Semaphore } from "../../../src/lib/mutex.js";

/** A promise and the function that settles it, to hold a lock open until the test lets go. */
function gate(): { opened: Promise<void>; open: () => void } {
  let open!: () => void;
  const opened = new Promise<void>((resolve) => (open = resolve));
  return { opened, open };
}

const tick = () => new Promise((resolve) => setImmediate(resolve));

describe("Mutex", () => {
  it("runs callers one at a time, in arrival order", async () => {
    const mutex = new Mutex();
    const order: string[] = [];
    const first = gate();
    const a = mutex.run(async () => {
      order.push("a start");
      await first.opened;
      order.push("a end");
    });
    const b = mutex.run(async () => void order.push("b"));
    const c = mutex.run(async () => void order.push("c"));
    await tick();
    expect(order).toEqual(["a start"]);
    first.open();
    await Promise.all([a, b, c]);
    expect(order).toEqual(["a start", "a end", "b", "c"]);
  });

  it("keeps going after a caller fails, and that caller sees its own error", async () => {
    const mutex = new Mutex();
    const failed = mutex.run(async () => {
      throw new Error("boom");
    });
    const next = mutex.run(async () => "next ran");
    await expect(failed).rejects.toThrow("boom");
    await expect(next).resolves.toBe("next ran");
  });
});

describe("KeyedMutex", () => {
  it("serializes one key and lets other keys run meanwhile", async () => {
    const locks = new KeyedMutex();
    const hold = gate();
    const order: string[] = [];
    const a1 = locks.run("a", async () => {
      await hold.opened;
      order.push("a1");
    });
    const a2 = locks.run("a", async () => void order.push("a2"));
    const b = locks.run("b", async () => void order.push("b"));
    await b;
    expect(order).toEqual(["b"]);
    hold.open();
    await Promise.all([a1, a2]);
    expect(order).toEqual(["b", "a1", "a2"]);
  });
});

describe("RwLock", () => {
  it("lets readers share the lock and keeps a writer alone", async () => {
    const lock = new RwLock();
    let inside = 0;
    let most = 0;
    const reader = () =>
      lock.read(async () => {
        inside++;
        most = Math.max(most, inside);
        await tick();
        inside--;
      });
    await Promise.all([reader(), reader(), reader()]);
    expect(most).toBe(3);

    const events: string[] = [];
    const hold = gate();
    const r = lock.read(async () => {
      events.push("read start");
      await hold.opened;
      events.push("read end");
    });
    const w = lock.write(async () => void events.push("write"));
    await tick();
    expect(events).toEqual(["read start"]);
    hold.open();
    await Promise.all([r, w]);
    expect(events).toEqual(["read start", "read end", "write"]);
  });

  it("does not let readers that arrive after a waiting writer starve it", async () => {
    const lock = new RwLock();
    const events: string[] = [];
    const hold = gate();
    const first = lock.read(async () => {
      await hold.opened;
      events.push("first reader");
    });
    const writer = lock.write(async () => void events.push("writer"));
    const late = lock.read(async () => void events.push("late reader"));
    hold.open();
    await Promise.all([first, writer, late]);
    expect(events).toEqual(["first reader", "writer", "late reader"]);
  });
});

describe("KeyedRwLock", () => {
  it("excludes a writer of one key from its readers only", async () => {
    const locks = new KeyedRwLock();
    const hold = gate();
    const events: string[] = [];
    const write = locks.write("p1", async () => {
      await hold.opened;
      events.push("p1 write");
    });
    const otherKey = locks.read("p2", async () => void events.push("p2 read"));
    const sameKey = locks.read("p1", async () => void events.push("p1 read"));
    await otherKey;
    expect(events).toEqual(["p2 read"]);
    hold.open();
    await Promise.all([write, sameKey]);
    expect(events).toEqual(["p2 read", "p1 write", "p1 read"]);
  });
});

describe("Semaphore", () => {
  it("admits at most `size` holders, the others in arrival order", async () => {
    const semaphore = new Semaphore(2);
    let inside = 0;
    let most = 0;
    const order: number[] = [];
    await Promise.all(
      [0, 1, 2, 3, 4].map((i) =>
        semaphore.run(async () => {
          inside++;
          most = Math.max(most, inside);
          order.push(i);
          await tick();
          inside--;
        }),
      ),
    );
    expect(most).toBe(2);
    expect(order).toEqual([0, 1, 2, 3, 4]);
  });

  it("gives the place of a holder that failed to the next one", async () => {
    const semaphore = new Semaphore(1);
    const failed = semaphore.run(async () => {
      throw new Error("boom");
    });
    await expect(failed).rejects.toThrow("boom");
    await expect(semaphore.run(async () => "ran")).resolves.toBe("ran");
  });
});
