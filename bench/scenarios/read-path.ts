import { fork } from "node:child_process";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { HISTORY_IDS, HISTORY_PANEL, ME, PANEL_EXTRA_FIELDS_PER_ROW } from "../client.js";
import type { BenchContext } from "../context.js";
import type { ReadersReply } from "../readers-child.js";
import { atMost, type Row } from "../report.js";
import { measureInterleaved, now } from "../stats.js";

/**
 * I (read path): the history panel's first page of 50 over HTTP beside a trivial authenticated
 * query (`{ me { email } }`) and `/healthz`, round-robin in the same run. Beside them the same
 * page with one field per row: (panel - ids) / extra fields is what each resolved field costs,
 * so a per-field middleware (validation, auth) shows up there as soon as it lands.
 *
 * J (concurrent readers): 200 history readers in a second process, each sending its next page
 * request when the previous answer arrived, for a fixed time, while a third process probes
 * `/readyz` every 50 ms (from 2 s in, after the readers' simultaneous first burst, to 1 s before the end). Pages per second against the figure recorded before the read path was
 * reworked (bench/read-path-before.json, same scenario), p99 of both.
 */

const BEFORE_FILE = fileURLToPath(new URL("../../../bench/read-path-before.json", import.meta.url));

interface Before {
  commit: string;
  measuredAt: string;
  note: string;
  full?: { pagesPerSecond: number; readerP99: number; readyzP99: number };
  quick?: { pagesPerSecond: number; readerP99: number; readyzP99: number };
}

function before(quick: boolean): Before["full"] | null {
  try {
    const b = JSON.parse(readFileSync(BEFORE_FILE, "utf8")) as Before;
    return (quick ? b.quick : b.full) ?? null;
  } catch {
    return null;
  }
}

export async function runReadPath(ctx: BenchContext): Promise<void> {
  const { options, dataset } = ctx;
  const te = dataset.history.small.te;
  const vars = { p: "bench", t: te.tenant, e: te.environment, first: options.pageSize };
  const healthz = ctx.graphqlUrl.replace(/\/graphql$/, "/healthz");
  const runs = options.runs * 2;
  const s = await measureInterleaved(options.warmup * 2, runs, {
    panel: () => ctx.client.request(HISTORY_PANEL, vars),
    ids: () => ctx.client.request(HISTORY_IDS, vars),
    me: () => ctx.client.request(ME),
    healthz: async () => (await fetch(healthz)).json(),
  });
  ctx.figures["I.historyPanelPage"] = s.panel;
  ctx.figures["I.historyIdsPage"] = s.ids;
  ctx.figures["I.me"] = s.me;
  ctx.figures["I.healthz"] = s.healthz;
  const perField = ((s.panel.median - s.ids.median) * 1000) / (options.pageSize * PANEL_EXTRA_FIELDS_PER_ROW);
  ctx.figures["I.perFieldMicroseconds"] = Math.round(perField * 100) / 100;
  ctx.rows.push(atMost("I", `history panel page of ${options.pageSize} vs { me { email } }`, "ms", s.panel, "{ me { email } }", s.me, 2));
  ctx.log(
    `  I panel page ${s.panel.median.toFixed(2)} ms, ids-only page ${s.ids.median.toFixed(2)} ms (${perField.toFixed(1)} µs per field), me ${s.me.median.toFixed(2)} ms, /healthz ${s.healthz.median.toFixed(2)} ms`,
  );
}

function child(args: string[]): Promise<ReadersReply> {
  const script = fileURLToPath(new URL("../readers-child.js", import.meta.url));
  return new Promise((resolve, reject) => {
    const proc = fork(script, args, { stdio: ["ignore", "inherit", "inherit", "ipc"] });
    let reply: ReadersReply | null = null;
    proc.on("message", (m: ReadersReply) => (reply = m));
    proc.on("exit", (code) => {
      if (reply?.kind === "error") reject(new Error(`readers child: ${reply.message}`));
      else if (reply) resolve(reply);
      else reject(new Error(`readers child exited with ${code} without an answer`));
    });
  });
}

export async function runConcurrentReaders(ctx: BenchContext): Promise<void> {
  const { options, dataset } = ctx;
  const te = dataset.history.small.te;
  const server = ctx.graphqlUrl.replace(/\/graphql$/, "");
  const concurrency = 200;
  const durationMs = options.quick ? 8_000 : 20_000;
  const started = now();
  // The server runs in this process and the load in others: this process's CPU time is the server's.
  const cpuBefore = process.cpuUsage();
  const [readers, probe] = await Promise.all([
    child(["readers", server, dataset.token, te.tenant, te.environment, String(concurrency), String(durationMs), String(options.pageSize)]),
    // The probe starts once the 200 readers' first simultaneous burst is in and stops a little before they do: every probe falls inside the steady load.
    new Promise<void>((resolve) => setTimeout(resolve, 2_000)).then(() => child(["probe", server, "50", String(durationMs - 3_000)])),
  ]);
  const cpu = process.cpuUsage(cpuBefore);
  if (readers.kind !== "readers" || probe.kind !== "probe") throw new Error("unexpected answers from the readers children");
  const cpuMsPerPage = (cpu.user + cpu.system) / 1000 / Math.max(1, readers.pages);
  ctx.figures["J.serverCpuMsPerPage"] = Math.round(cpuMsPerPage * 100) / 100;
  if (readers.errors > 0) throw new Error(`J: ${readers.errors} history reads failed; first: ${readers.firstError}`);
  ctx.figures["J.readers"] = { concurrency, durationMs, pages: readers.pages, pagesPerSecond: readers.pagesPerSecond, latency: readers.latency };
  ctx.figures["J.readyz"] = { probes: probe.probes, notReady: probe.notReady, latency: probe.latency, lastBody: probe.lastBody };
  ctx.figures["J.wallSeconds"] = Math.round((now() - started) / 100) / 10;

  const was = before(options.quick);
  const ratio = was ? readers.pagesPerSecond / was.pagesPerSecond : Number.NaN;
  const pages: Row = {
    scenario: "J",
    figure: `${concurrency} concurrent history readers: pages/s vs before (page p50 ${readers.latency.median.toFixed(0)} ms, p99 ${readers.latency.p99.toFixed(0)} ms)`,
    unit: "pages/s",
    median: readers.pagesPerSecond,
    p99: null,
    baseline: { name: was ? `before (page p99 ${was.readerP99.toFixed(0)} ms)` : "before: not recorded", median: was?.pagesPerSecond ?? Number.NaN, p99: null },
    ratioOf: "product / before, pages/s",
    ratio,
    target: ">= 3x",
    met: ratio >= 3,
  };
  ctx.rows.push(pages);
  const readyz: Row = {
    scenario: "J",
    figure: `/readyz during ${concurrency} readers (p99)`,
    unit: "ms",
    median: probe.latency.median,
    p99: probe.latency.p99,
    baseline: { name: "limit", median: 100, p99: 100 },
    ratioOf: "p99 / 100 ms",
    ratio: probe.latency.p99 / 100,
    target: "<= 1x (p99 <= 100 ms)",
    met: probe.latency.p99 <= 100 && probe.notReady === 0,
  };
  ctx.rows.push(readyz);
  ctx.log(
    `  J server CPU ${cpuMsPerPage.toFixed(2)} ms per page; ${readers.pagesPerSecond.toFixed(0)} pages/s (p50 ${readers.latency.median.toFixed(0)} ms, p99 ${readers.latency.p99.toFixed(0)} ms); /readyz p50 ${probe.latency.median.toFixed(1)} ms, p99 ${probe.latency.p99.toFixed(1)} ms over ${probe.probes} probes, ${probe.notReady} not ready`,
  );
}
