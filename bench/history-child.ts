import "reflect-metadata";
import { createApp } from "../src/app.js";
import { loadConfig } from "../src/config.js";
import { createLogger } from "../src/logger.js";
import { startServer } from "../src/server.js";
import { GraphQLClient, HISTORY, historyCursor } from "./client.js";
import { now } from "./stats.js";
import { reportChildFailure } from "./child-process.js";

/**
 * One history size of scenarios C and G, in its own process so that sizes never share a heap:
 * starts the real server over the bench's data directory, then on each "round" message from
 * the parent serves first pages and deep pages of one tenant-environment's history, and on
 * "finish" reports its peak resident set size.
 *
 * argv: dataDir token tenant environment size deepOffset pageSize
 */

export type ChildMessage = { cmd: "round"; warmup: number; runs: number } | { cmd: "finish" };
export type ChildReply =
  | { kind: "ready"; startupMs: number }
  | { kind: "round"; first: number[]; deep: number[] }
  | { kind: "finish"; maxRssMB: number; sampledPeakRssMB: number; heapUsedMB: number }
  | { kind: "error"; message: string };

interface HistoryPage {
  deploymentHistory: { totalCount: number; edges: { cursor: string; node: { revision: string } }[]; pageInfo: { hasNextPage: boolean } };
}

async function main(): Promise<void> {
  const [dataDir, token, tenant, environment, sizeArg, deepArg, pageArg] = process.argv.slice(2);
  const size = Number(sizeArg);
  const deepOffset = Number(deepArg);
  const pageSize = Number(pageArg);
  const send = (reply: ChildReply) => process.send!(reply);

  let sampledPeak = process.memoryUsage().rss;
  const sampler = setInterval(() => {
    sampledPeak = Math.max(sampledPeak, process.memoryUsage().rss);
  }, 5);

  const started = now();
  const config = loadConfig({ DATA_DIR: dataDir!, PORT: "0", SEED: "none", LOG_LEVEL: "silent" });
  const app = await createApp(config, createLogger("silent"));
  const server = await startServer(app);
  const client = new GraphQLClient(`${server.url}/graphql`, token!);
  const vars = { p: "bench", t: tenant, e: environment, first: pageSize };
  // The newest deployment has seq = size: a page `deepOffset` deep starts after seq size - deepOffset + 1.
  const deepAfter = historyCursor(size - deepOffset + 1);

  const check = (page: HistoryPage, label: string) => {
    const h = page.deploymentHistory;
    if (h.totalCount !== size) throw new Error(`${label}: totalCount ${h.totalCount}, expected ${size}`);
    if (h.edges.length !== pageSize) throw new Error(`${label}: ${h.edges.length} deployments, expected ${pageSize}`);
  };
  check(await client.request<HistoryPage>(HISTORY, vars), "first page");
  check(await client.request<HistoryPage>(HISTORY, { ...vars, after: deepAfter }), "deep page");
  send({ kind: "ready", startupMs: now() - started });

  process.on("message", (msg: ChildMessage) => {
    void (async () => {
      try {
        if (msg.cmd === "round") {
          const first: number[] = [];
          const deep: number[] = [];
          for (let i = 0; i < msg.warmup + msg.runs; i++) {
            let t = now();
            check(await client.request<HistoryPage>(HISTORY, vars), "first page");
            if (i >= msg.warmup) first.push(now() - t);
            t = now();
            check(await client.request<HistoryPage>(HISTORY, { ...vars, after: deepAfter }), "deep page");
            if (i >= msg.warmup) deep.push(now() - t);
          }
          send({ kind: "round", first, deep });
        } else {
          clearInterval(sampler);
          sampledPeak = Math.max(sampledPeak, process.memoryUsage().rss);
          const heapUsedMB = process.memoryUsage().heapUsed / 1024 / 1024;
          await server.stop();
          // maxRSS is in kilobytes.
          send({ kind: "finish", maxRssMB: process.resourceUsage().maxRSS / 1024, sampledPeakRssMB: sampledPeak / 1024 / 1024, heapUsedMB });
          process.disconnect();
        }
      } catch (err) {
        send({ kind: "error", message: (err as Error).stack ?? String(err) });
        process.exitCode = 1;
        process.disconnect();
      }
    })();
  });
}

main().catch(reportChildFailure);
