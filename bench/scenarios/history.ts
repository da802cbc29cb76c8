import { fork, type ChildProcess } from "node:child_process";
import { fileURLToPath } from "node:url";
import type { BenchContext } from "../context.js";
import type { HistoryFixture } from "../dataset.js";
import type { ChildMessage, ChildReply } from "../history-child.js";
import { atMost, type Row } from "../report.js";
import { summarize } from "../stats.js";

/**
 * C (history paging) and G (memory). Each history size is served by its own server process
 * (bench/history-child.ts) over the same data directory, so the two sizes never share a heap.
 * The parent asks the two children for rounds in turn, so a noisy stretch of the machine hits
 * both sizes alike, then collects each one's peak RSS.
 */

class Child {
  private readonly proc: ChildProcess;
  private pending: { resolve: (r: ChildReply) => void; reject: (e: Error) => void } | null = null;
  private exited: Error | null = null;

  constructor(ctx: BenchContext, h: HistoryFixture, deepOffset: number) {
    const script = fileURLToPath(new URL("../history-child.js", import.meta.url));
    const args = [ctx.dataset.dataDir, ctx.dataset.token, h.te.tenant, h.te.environment, String(h.size), String(deepOffset), String(ctx.options.pageSize)];
    this.proc = fork(script, args, { stdio: ["ignore", "inherit", "inherit", "ipc"] });
    this.proc.on("message", (reply: ChildReply) => {
      const p = this.pending;
      this.pending = null;
      if (!p) return;
      if (reply.kind === "error") p.reject(new Error(`history child (${h.size}): ${reply.message}`));
      else p.resolve(reply);
    });
    this.proc.on("exit", (code, signal) => {
      this.exited = new Error(`history child (${h.size}) exited with ${signal ?? code}`);
      this.pending?.reject(this.exited);
      this.pending = null;
    });
  }

  next<K extends ChildReply["kind"]>(kind: K, message?: ChildMessage): Promise<Extract<ChildReply, { kind: K }>> {
    if (this.exited) return Promise.reject(this.exited);
    return new Promise((resolve, reject) => {
      this.pending = {
        resolve: (r) => (r.kind === kind ? resolve(r as Extract<ChildReply, { kind: K }>) : reject(new Error(`expected ${kind}, got ${r.kind}`))),
        reject,
      };
      if (message) this.proc.send(message);
    });
  }

  kill(): void {
    if (this.proc.exitCode === null) this.proc.kill();
  }
}

export async function runHistory(ctx: BenchContext): Promise<void> {
  const { options } = ctx;
  const { small, large } = ctx.dataset.history;
  const deepOf = (h: HistoryFixture) => Math.min(options.deepOffset, Math.floor(h.size / 2));
  const sizes = [small, large];
  const children = sizes.map((h) => new Child(ctx, h, deepOf(h)));
  try {
    await Promise.all(children.map((c) => c.next("ready")));
    const first: number[][] = [[], []];
    const deep: number[][] = [[], []];
    const rounds = 4;
    const perRound = Math.ceil(options.runs / rounds) * 2;
    for (let r = 0; r < rounds; r++) {
      for (let k = 0; k < children.length; k++) {
        const reply = await children[k]!.next("round", { cmd: "round", warmup: r === 0 ? options.warmup : 1, runs: perRound });
        first[k]!.push(...reply.first);
        deep[k]!.push(...reply.deep);
      }
    }
    const memory = [];
    for (const c of children) memory.push(await c.next("finish", { cmd: "finish" }));

    const [sFirst, lFirst] = first.map(summarize) as [ReturnType<typeof summarize>, ReturnType<typeof summarize>];
    const [sDeep, lDeep] = deep.map(summarize) as [ReturnType<typeof summarize>, ReturnType<typeof summarize>];
    const n = (x: number) => x.toLocaleString("en-US");
    ctx.figures[`C.firstPage.${small.size}`] = sFirst;
    ctx.figures[`C.firstPage.${large.size}`] = lFirst;
    ctx.figures[`C.deepPage.${small.size}.at${deepOf(small)}`] = sDeep;
    ctx.figures[`C.deepPage.${large.size}.at${deepOf(large)}`] = lDeep;
    ctx.rows.push(atMost("C", `history at ${n(large.size)}: page ${n(deepOf(large))} deep vs first page`, "ms", lDeep, "first page", lFirst, 1.5));
    ctx.rows.push(atMost("C", `history: first page at ${n(large.size)} vs at ${n(small.size)}`, "ms", lFirst, `first page at ${n(small.size)}`, sFirst, 1.5));
    const smallDeep = atMost("C", `history at ${n(small.size)}: page ${n(deepOf(small))} deep vs first page`, "ms", sDeep, "first page", sFirst, 1.5);
    ctx.rows.push(smallDeep);

    const [sMem, lMem] = memory as [Extract<ChildReply, { kind: "finish" }>, Extract<ChildReply, { kind: "finish" }>];
    ctx.figures[`G.${small.size}`] = { ...sMem };
    ctx.figures[`G.${large.size}`] = { ...lMem };
    const ratio = lMem.maxRssMB / sMem.maxRssMB;
    const g: Row = {
      scenario: "G",
      figure: `peak RSS serving C at ${n(large.size)} vs ${n(small.size)}`,
      unit: "MB",
      median: lMem.maxRssMB,
      p99: null,
      baseline: { name: `at ${n(small.size)}`, median: sMem.maxRssMB, p99: null },
      ratioOf: "product / baseline, peak RSS",
      ratio,
      target: "<= 1.5x",
      met: ratio <= 1.5,
    };
    ctx.rows.push(g);
    ctx.log(
      `  C first page ${sFirst.median.toFixed(1)} ms at ${n(small.size)}, ${lFirst.median.toFixed(1)} ms at ${n(large.size)}; deep page ${lDeep.median.toFixed(1)} ms; G peak RSS ${sMem.maxRssMB.toFixed(0)} MB vs ${lMem.maxRssMB.toFixed(0)} MB`,
    );
  } finally {
    for (const c of children) c.kill();
  }
}
