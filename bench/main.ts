import "reflect-metadata";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { createApp } from "../src/app.js";
import { loadConfig } from "../src/config.js";
import { createLogger } from "../src/logger.js";
import { startServer, type RunningServer } from "../src/server.js";
import { GitCli } from "./baseline-git-cli.js";
import { RawNodegit } from "./baseline-nodegit.js";
import { GraphQLClient } from "./client.js";
import type { BenchContext } from "./context.js";
import { generate } from "./dataset.js";
import { parseOptions, UsageError, type BenchOptions } from "./options.js";
import { machine, table, type Results } from "./report.js";
import { runCompare } from "./scenarios/compare.js";
import { runFanout } from "./scenarios/fanout.js";
import { runHistory } from "./scenarios/history.js";
import { runConcurrentReaders, runReadPath } from "./scenarios/read-path.js";
import { runRecovery } from "./scenarios/recovery.js";
import { graphqlRollback, runRollbacks } from "./scenarios/rollbacks.js";
import { runThroughput } from "./scenarios/throughput.js";
import { summarize as summarizeProfile } from "./profile-summary.js";
import { cpuProfile, installSpans, type SpanReport } from "./spans.js";
import { now } from "./stats.js";

/**
 * `npm run bench [-- --quick] [--keep] [--only=A,C] [--spans]` (spans: time the product's methods
 * during A and write CPU profiles of A, I and J (the server's side) to bench/tmp/scenario-{a,i,j}.cpuprofile; summarize one
 * with `node dist/bench/profile-summary.js <file>`): generates a project at scale,
 * starts the real server in this process (createApp + startServer, PORT 0, a temporary
 * DATA_DIR, SEED none, LOG_LEVEL silent), runs scenarios A-J beside their baselines, prints
 * one table and writes bench/results.json (quick: results-quick.json; --only: tmp/results-partial.json). Missed targets are reported, never fatal; the exit
 * code is non-zero only when something actually failed.
 */

const BENCH_DIR = fileURLToPath(new URL("../../bench/", import.meta.url));

function log(line: string): void {
  process.stdout.write(`${line}\n`);
}

async function run(options: BenchOptions, spans: boolean): Promise<number> {
  const started = now();
  const startedAt = new Date().toISOString();
  const dataDir = mkdtempSync(path.join(tmpdir(), "rbs-bench-"));
  log(`bench (${options.quick ? "quick" : "full"}): data in ${dataDir}`);
  const config = loadConfig({ DATA_DIR: dataDir, PORT: "0", SEED: "none", LOG_LEVEL: "silent" });
  const app = await createApp(config, createLogger(config.logLevel));
  let server: RunningServer | null = null;
  let cli: GitCli | null = null;
  try {
    log(`generating ${options.tenants} tenants x ${options.environments.length} environments x ${options.services} services ...`);
    const dataset = await generate(app, options, log);
    server = await startServer(app);
    const graphqlUrl = `${server.url}/graphql`;
    cli = new GitCli(dataset.repoPath);
    const ctx: BenchContext = {
      options,
      dataset,
      app,
      graphqlUrl,
      client: new GraphQLClient(graphqlUrl, dataset.token),
      raw: await RawNodegit.open(dataset.repoPath),
      cli,
      log,
      rows: [],
      figures: {},
    };
    const wanted = (letter: string) => options.only.size === 0 || options.only.has(letter);
    let spanReport: SpanReport | undefined;
    const stage = async (name: string, work: () => Promise<void>) => {
      log(`${name} ...`);
      const t = now();
      await work();
      ctx.figures[`stageSeconds.${name}`] = Math.round((now() - t) / 100) / 10;
    };

    if (wanted("A")) {
      const collector = spans ? await installSpans(app) : null;
      await stage("A full rollback", () => runRollbacks(ctx, "full"));
      if (collector) {
        spanReport = collector.report(options.warmup + options.runs + 1);
        collector.uninstall();
        // --spans also profiles GraphQL rollbacks alone (main thread only; libgit2 runs on the libuv pool), without the baselines' process spawns.
        const f = dataset.full.graphql;
        await cpuProfile(path.join(BENCH_DIR, "tmp", "scenario-a.cpuprofile"), async () => {
          for (let i = 0; i < options.runs; i++) await graphqlRollback(ctx, f, "full", f.revisions[(options.warmup + options.runs + 1 + i) % 2]!);
        });
      }
    }
    if (wanted("B")) {
      await stage("B service rollback", () => runRollbacks(ctx, "service"));
      await stage("B field rollback", () => runRollbacks(ctx, "field"));
    }
    if (wanted("D")) await stage("D compare and preview", () => runCompare(ctx));
    if (wanted("C") || wanted("G")) await stage("C/G history and memory", () => runHistory(ctx));
    if (wanted("E")) await stage("E throughput", () => runThroughput(ctx));
    if (wanted("F")) await stage("F subscription fan-out", () => runFanout(ctx));
    if (wanted("H")) await stage("H time to recovery", () => runRecovery(ctx));
    if (wanted("I")) {
      const runI = () => runReadPath(ctx);
      await stage("I read path", spans ? () => cpuProfile(path.join(BENCH_DIR, "tmp", "scenario-i.cpuprofile"), runI) : runI);
    }
    if (wanted("J")) {
      const runJ = () => runConcurrentReaders(ctx);
      await stage("J concurrent readers", spans ? () => cpuProfile(path.join(BENCH_DIR, "tmp", "scenario-j.cpuprofile"), runJ) : runJ);
    }

    const results: Results = {
      mode: options.quick ? "quick" : "full",
      startedAt,
      durationSeconds: Math.round((now() - started) / 100) / 10,
      machine: machine(),
      sizes: {
        ...dataset.counts,
        historySmall: options.historySmall,
        historyLarge: options.historyLarge,
        deepOffset: options.deepOffset,
        pageSize: options.pageSize,
        warmup: options.warmup,
        runs: options.runs,
        compareApart: options.compareApart,
        throughputTenantEnvs: options.throughputTenantEnvs,
        throughputClients: options.throughputClients,
        subscribers: options.subscribers,
        fanoutRuns: options.fanoutRuns,
      },
      generationMs: dataset.generation,
      rows: ctx.rows,
      figures: ctx.figures,
      ...(spanReport ? { profile: spanReport as unknown as Record<string, unknown> } : {}),
    };
    const m = results.machine;
    log("");
    log(`${m.cpu}, ${m.cores} cores, Node ${m.node}, load ${m.loadAverage.join(" ")}; ${results.mode} run, ${results.durationSeconds} s`);
    log(table(ctx.rows));
    const missed = ctx.rows.filter((r) => !r.met).length;
    log(`${ctx.rows.length - missed} of ${ctx.rows.length} targets met${missed ? ` (${missed} missed: reported, not fatal)` : ""}`);
    if (spanReport) {
      log("");
      log("where a GraphQL full rollback spends its time (mean per rollback, spans nest):");
      for (const s of spanReport.spans) log(`  ${s.name.padEnd(48)} ${s.meanMs.toFixed(2).padStart(8)} ms  x${s.callsPerOp.toFixed(1)}`);
    }
    if (spans) {
      for (const letter of ["a", "i", "j"]) {
        const file = path.join(BENCH_DIR, "tmp", `scenario-${letter}.cpuprofile`);
        if (!existsSync(file) || !wanted(letter.toUpperCase())) continue;
        log("");
        log(`CPU profile of scenario ${letter.toUpperCase()} (${path.relative(process.cwd(), file)}):`);
        log(summarizeProfile(JSON.parse(readFileSync(file, "utf8")) as Parameters<typeof summarizeProfile>[0], 20));
      }
    }
    // A full run's figures are the ones kept in git (bench/README.md quotes them); quick runs and
    // runs of a few scenarios go beside them so they never overwrite them.
    const partial = options.only.size > 0;
    const out = partial ? path.join(BENCH_DIR, "tmp", "results-partial.json") : path.join(BENCH_DIR, options.quick ? "results-quick.json" : "results.json");
    mkdirSync(path.dirname(out), { recursive: true });
    writeFileSync(out, `${JSON.stringify(results, null, 2)}\n`);
    log(`wrote ${path.relative(process.cwd(), out) || out}`);
    return 0;
  } finally {
    await server?.stop().catch((err) => log(`server stop failed: ${(err as Error).message}`));
    if (!server) await app.close().catch(() => undefined);
    cli?.close();
    if (options.keep) log(`kept ${dataDir}`);
    else rmSync(dataDir, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  const spans = argv.includes("--spans");
  let options: BenchOptions;
  try {
    options = parseOptions(argv.filter((a) => a !== "--spans"));
  } catch (err) {
    if (err instanceof UsageError) {
      process.stderr.write(`${err.message}\n`);
      process.exit(2);
    }
    throw err;
  }
  const code = await run(options, spans);
  // nodegit keeps libuv handles alive; everything is closed, so leave now.
  process.exit(code);
}

main().catch((err) => {
  process.stderr.write(`bench failed: ${(err as Error).stack ?? String(err)}\n`);
  process.exit(1);
});
