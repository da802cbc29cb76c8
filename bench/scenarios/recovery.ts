import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { TokenKind } from "../../entities/enums.js";
import type { BenchContext } from "../context.js";
import { atMost, fasterBy } from "../report.js";
import { now, summarize, type Summary } from "../stats.js";
import { graphqlRollback } from "./rollbacks.js";

/** Argo CD's default reconciliation (polling) interval: timeout.reconciliation = 180 s. */
export const ARGO_CD_POLL_SECONDS = 180;

const SYNC = `subscription Sync($p: String!, $t: String, $e: String) { syncStatusChanged(project: $p, tenant: $t, environment: $e) { revision state } }`;

/**
 * H: time to recovery. The clock starts when requestRollback is sent and stops when the agent
 * simulator (a real child process, polling every 180 s like Argo CD, and subscribed to
 * deploymentRecorded over graphql-ws) reports SYNCED for the rollback's commit, seen on a
 * syncStatusChanged subscription. In the same runs: when a GITHUB_PUSH webhook for the commit
 * reaches a local receiver (what would make Argo CD or Flux refresh), and when the
 * requestRollback response arrives. Polling alone is not waited for: with a rollback at a random
 * moment the wait for the next poll is uniform over the interval, so its median is 90 s and its
 * p99 178.2 s, to which the measured sync round is added.
 */
export async function runRecovery(ctx: BenchContext): Promise<void> {
  const { app, dataset: ds, options } = ctx;
  const f = ds.recovery;
  const agentToken = (await app.auth.createToken({ actor: { kind: "system", user: null }, kind: TokenKind.AGENT, projectSlug: "bench", label: "bench agent" })).token;
  const base = ctx.graphqlUrl.replace(/\/graphql$/, "");

  // The receiver stands in for Argo CD's /api/webhook: it records when each pushed commit arrives.
  const pushed = new Waiters();
  const receiver = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const at = now();
      res.end("ok");
      try {
        const body = JSON.parse(Buffer.concat(chunks).toString("utf8")) as { after?: string };
        if (req.headers["x-github-event"] === "push" && body.after) pushed.arrived(body.after, at);
      } catch {
        /* not a push */
      }
    });
  });
  await new Promise<void>((resolve) => receiver.listen(0, "127.0.0.1", resolve));
  const receiverUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/api/webhook`;
  await ctx.client.request(`mutation($u:String!){ createWebhook(project:"bench", url:$u, events:[GIT_PUSH], format:GITHUB_PUSH, secret:"bench-secret"){ id } }`, {
    u: receiverUrl,
  });

  const synced = new Waiters();
  const ws = ctx.client.ws();
  const unsubscribe = ws.subscribe<{ syncStatusChanged: { revision: string | null; state: string } }>(
    { query: SYNC, variables: { p: "bench", t: f.te.tenant, e: f.te.environment } },
    {
      next: (v) => {
        const s = v.data?.syncStatusChanged;
        if (s?.state === "SYNCED" && s.revision) synced.arrived(s.revision, now());
      },
      error: (err) => ctx.log(`  recovery: sync subscription failed: ${String(err)}`),
      complete: () => undefined,
    },
  );

  const stateDir = mkdtempSync(path.join(tmpdir(), "rbs-bench-agent-"));
  const agent = spawn(
    process.execPath,
    [
      fileURLToPath(new URL("../../src/agent/main.js", import.meta.url)),
      "--server",
      base,
      "--token",
      agentToken,
      "--project",
      "bench",
      "--tenant",
      f.te.tenant,
      "--environment",
      f.te.environment,
      "--interval",
      String(ARGO_CD_POLL_SECONDS),
      "--state-dir",
      stateDir,
    ],
    { stdio: ["ignore", "ignore", "inherit"], env: { ...process.env, GIT_TERMINAL_PROMPT: "0" } },
  );
  try {
    // Its first round (the initial clone) at start, before anything is measured: it reports the branch head.
    const head = (await (await app.git.open("bench")).head())!;
    await synced.waitFor(head, 120_000);

    const samples = { agent: [] as number[], webhook: [] as number[], response: [] as number[] };
    for (let i = 0; i < options.warmup + options.runs; i++) {
      const target = f.revisions[i % 2]!;
      const start = now();
      const sha = await graphqlRollback(ctx, f, "full", target);
      const answered = now();
      const [syncedAt, pushedAt] = await Promise.all([synced.waitFor(sha, 60_000), pushed.waitFor(sha, 60_000)]);
      if (i < options.warmup) continue;
      samples.response.push(answered - start);
      samples.agent.push(syncedAt - start);
      samples.webhook.push(pushedAt - start);
    }
    const agentSummary = summarize(samples.agent);
    const webhookSummary = summarize(samples.webhook);
    const responseSummary = summarize(samples.response);
    const polling: Summary = {
      median: (ARGO_CD_POLL_SECONDS / 2) * 1000 + agentSummary.median,
      p99: 0.99 * ARGO_CD_POLL_SECONDS * 1000 + agentSummary.p99,
      mean: (ARGO_CD_POLL_SECONDS / 2) * 1000 + agentSummary.mean,
      min: agentSummary.min,
      max: ARGO_CD_POLL_SECONDS * 1000 + agentSummary.max,
      n: 0,
    };
    ctx.figures["H.recovery.agentSubscribed"] = agentSummary;
    ctx.figures["H.recovery.pollingComputed"] = polling;
    ctx.figures["H.recovery.pollIntervalSeconds"] = ARGO_CD_POLL_SECONDS;
    ctx.figures["H.recovery.githubPushWebhook"] = webhookSummary;
    ctx.figures["H.recovery.requestRollbackResponse"] = responseSummary;
    ctx.rows.push(
      fasterBy("H", "time to recovery: agent subscribed vs polling every 180 s (computed)", agentSummary, "Argo CD polling, 180 s", polling, 20),
      atMost("H", "GITHUB_PUSH webhook received vs requestRollback answered", "ms", webhookSummary, "requestRollback response", responseSummary, 1.5),
    );
    ctx.log(
      `  time to recovery (request to SYNCED): p50 ${agentSummary.median.toFixed(0)} ms, p99 ${agentSummary.p99.toFixed(0)} ms; ` +
        `polling every ${ARGO_CD_POLL_SECONDS} s instead (computed): p50 ${(polling.median / 1000).toFixed(1)} s, p99 ${(polling.p99 / 1000).toFixed(1)} s; ` +
        `GITHUB_PUSH webhook received: p50 ${webhookSummary.median.toFixed(0)} ms, p99 ${webhookSummary.p99.toFixed(0)} ms`,
    );
  } finally {
    agent.kill("SIGTERM");
    unsubscribe();
    await ws.dispose();
    await new Promise((resolve) => receiver.close(resolve));
    rmSync(stateDir, { recursive: true, force: true });
  }
}

/** Arrival times by commit sha, and promises for the ones still to come. */
class Waiters {
  private readonly seen = new Map<string, number>();
  private readonly waiting = new Map<string, (at: number) => void>();

  arrived(sha: string, at: number): void {
    if (this.seen.has(sha)) return;
    this.seen.set(sha, at);
    this.waiting.get(sha)?.(at);
  }

  waitFor(sha: string, timeoutMs: number): Promise<number> {
    const at = this.seen.get(sha);
    if (at !== undefined) return Promise.resolve(at);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`bench recovery: nothing for ${sha.slice(0, 7)} within ${timeoutMs} ms`)), timeoutMs);
      this.waiting.set(sha, (t) => {
        clearTimeout(timer);
        this.waiting.delete(sha);
        resolve(t);
      });
    });
  }
}
