import http from "node:http";
import { HISTORY_PANEL } from "./client.js";
import { now, summarize, type Summary } from "./stats.js";
import { reportChildFailure } from "./child-process.js";

/**
 * The load of scenario J, in a process of its own so the server's process pays only for
 * serving: either `readers` (a fixed number of concurrent history readers, each sending its next
 * request when the previous answer arrived, for a fixed time) or `probe` (GET /readyz at a
 * fixed interval meanwhile, as an orchestrator's readiness probe). Bounded by construction: at
 * most `concurrency` requests are in flight.
 *
 * argv: readers <serverUrl> <token> <tenant> <environment> <concurrency> <durationMs> <pageSize>
 *       probe   <serverUrl> <intervalMs> <durationMs>
 */

export type ReadersReply =
  | { kind: "readers"; pages: number; errors: number; seconds: number; pagesPerSecond: number; latency: Summary; firstError: string | null }
  | { kind: "probe"; probes: number; notReady: number; latency: Summary; lastBody: unknown }
  | { kind: "error"; message: string };

/** One HTTP request on a keep-alive agent: status and parsed JSON body. */
function send(agent: http.Agent, url: string, method: string, headers: Record<string, string>, body?: string): Promise<{ status: number; json: unknown }> {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method, agent, headers: body ? { ...headers, "content-length": String(Buffer.byteLength(body)) } : headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("end", () => {
        try {
          resolve({ status: res.statusCode ?? 0, json: JSON.parse(Buffer.concat(chunks).toString("utf8")) });
        } catch (err) {
          reject(err as Error);
        }
      });
      res.on("error", reject);
    });
    req.on("error", reject);
    req.end(body);
  });
}

async function readers(url: string, token: string, tenant: string, environment: string, concurrency: number, durationMs: number, pageSize: number): Promise<ReadersReply> {
  // One connection per reader, as that many browsers would hold.
  const agent = new http.Agent({ keepAlive: true, maxSockets: concurrency });
  const body = JSON.stringify({ query: HISTORY_PANEL, variables: { p: "bench", t: tenant, e: environment, first: pageSize } });
  const latencies: number[] = [];
  let errors = 0;
  let firstError: string | null = null;
  const started = now();
  const deadline = started + durationMs;
  const reader = async () => {
    while (now() < deadline) {
      const t = now();
      try {
        const res = await send(agent, `${url}/graphql`, "POST", { "content-type": "application/json", authorization: `Bearer ${token}` }, body);
        const json = res.json as { data?: { deploymentHistory?: { edges: unknown[] } }; errors?: { message: string }[] };
        if (res.status !== 200 || json.errors?.length || json.data?.deploymentHistory?.edges.length !== pageSize) {
          errors++;
          firstError ??= `HTTP ${res.status}: ${JSON.stringify(json.errors ?? json).slice(0, 300)}`;
        } else latencies.push(now() - t);
      } catch (err) {
        errors++;
        firstError ??= (err as Error).message;
      }
    }
  };
  await Promise.all(Array.from({ length: concurrency }, () => reader()));
  const seconds = (now() - started) / 1000;
  agent.destroy();
  return { kind: "readers", pages: latencies.length, errors, seconds, pagesPerSecond: latencies.length / seconds, latency: summarize(latencies), firstError };
}

async function probe(url: string, intervalMs: number, durationMs: number): Promise<ReadersReply> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  const latencies: number[] = [];
  let notReady = 0;
  let lastBody: unknown = null;
  const deadline = now() + durationMs;
  while (now() < deadline) {
    const t = now();
    const res = await send(agent, `${url}/readyz`, "GET", {});
    lastBody = res.json;
    latencies.push(now() - t);
    if (res.status !== 200) notReady++;
    const wait = intervalMs - (now() - t);
    if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
  }
  agent.destroy();
  return { kind: "probe", probes: latencies.length, notReady, latency: summarize(latencies), lastBody };
}

async function main(): Promise<void> {
  const [mode, ...args] = process.argv.slice(2);
  let reply: ReadersReply;
  if (mode === "readers") {
    const [url, token, tenant, environment, concurrency, durationMs, pageSize] = args;
    reply = await readers(url!, token!, tenant!, environment!, Number(concurrency), Number(durationMs), Number(pageSize));
  } else if (mode === "probe") {
    const [url, intervalMs, durationMs] = args;
    reply = await probe(url!, Number(intervalMs), Number(durationMs));
  } else throw new Error(`unknown mode ${mode}`);
  process.send!(reply);
  process.disconnect();
}

main().catch(reportChildFailure);
