import { fork, type ChildProcess } from "node:child_process";
import { fileURLToPath } from "node:url";
import type { BenchContext } from "../context.js";
import { ADD_NOTE, GraphQLClient, REQUEST_ROLLBACK } from "../client.js";
import type { FanoutMessage, FanoutReply } from "../fanout-child.js";
import { atMost } from "../report.js";
import { summarize, type Summary } from "../stats.js";

/**
 * F: N graphql-ws subscribers on one PENDING rollback request. Each measured change is a note
 * (addRollbackNote publishes the request on rollbackRequestUpdated); the clock starts just
 * before the mutation is sent and stops for each subscriber when it receives the event that
 * carries that note. Figure per change: the time to the last delivery. Beside it: the same with
 * a single subscriber. The subscribers run in a child process, as real dashboards are not in the
 * server's process; delivery times are wall-clock times of the two processes on one machine.
 */

/** N subscribers in a child process (bench/fanout-child.ts), driven over IPC. */
class Subscribers {
  private readonly proc: ChildProcess;
  private readonly replies: FanoutReply[] = [];
  private waiter: (() => void) | null = null;
  private failure: Error | null = null;

  constructor(
    private readonly gql: GraphQLClient,
    project: string,
    private readonly requestId: string,
    count: number,
  ) {
    const script = fileURLToPath(new URL("../fanout-child.js", import.meta.url));
    this.proc = fork(script, [gql.url, gql.token, project, requestId, String(count)], { stdio: ["ignore", "inherit", "inherit", "ipc"] });
    this.proc.on("message", (reply: FanoutReply) => {
      if (reply.kind === "error") this.failure = new Error(`fan-out subscribers: ${reply.message}`);
      else this.replies.push(reply);
      this.waiter?.();
    });
    this.proc.on("exit", (code, signal) => {
      this.failure ??= new Error(`fan-out subscribers exited with ${signal ?? code}`);
      this.waiter?.();
    });
  }

  private async next<K extends FanoutReply["kind"]>(kind: K): Promise<Extract<FanoutReply, { kind: K }>> {
    for (;;) {
      const reply = this.replies.shift();
      if (reply) {
        if (reply.kind !== kind) throw new Error(`fan-out subscribers: expected ${kind}, got ${reply.kind}`);
        return reply as Extract<FanoutReply, { kind: K }>;
      }
      if (this.failure) throw this.failure;
      await new Promise<void>((resolve) => (this.waiter = resolve));
      this.waiter = null;
    }
  }

  async connected(): Promise<number> {
    return (await this.next("connected")).connectMs;
  }

  /** Sends one note and resolves with each subscriber's delivery time (ms after the send started). */
  async change(text: string, timeoutMs = 30_000): Promise<{ deliveries: number[]; mutationMs: number }> {
    this.proc.send({ cmd: "expect", text, timeoutMs } satisfies FanoutMessage);
    await this.next("armed");
    const start = performance.timeOrigin + performance.now();
    await this.gql.request(ADD_NOTE, { id: this.requestId, text });
    const mutationMs = performance.timeOrigin + performance.now() - start;
    const { at } = await this.next("delivered");
    return { deliveries: at.map((t) => t - start), mutationMs };
  }

  async close(): Promise<void> {
    if (this.proc.exitCode !== null || this.proc.signalCode !== null) return;
    this.proc.send({ cmd: "close" } satisfies FanoutMessage);
    await this.next("closed").catch(() => undefined);
  }
}

async function phase(gql: GraphQLClient, project: string, requestId: string, subscribers: number, warmup: number, runs: number, tag: string) {
  const subs = new Subscribers(gql, project, requestId, subscribers);
  const connectMs = await subs.connected();
  // graphql-ws does not acknowledge a subscribe: a first change delivered to all proves every subscription is live.
  await subs.change(`${tag}: ready`);
  const lastDelivery: number[] = [];
  const allDeliveries: number[] = [];
  const mutation: number[] = [];
  try {
    for (let i = 0; i < warmup + runs; i++) {
      const { deliveries, mutationMs } = await subs.change(`${tag}: note ${i}`);
      if (i < warmup) continue;
      lastDelivery.push(Math.max(...deliveries));
      allDeliveries.push(...deliveries);
      mutation.push(mutationMs);
    }
  } finally {
    await subs.close();
  }
  return { last: summarize(lastDelivery), every: summarize(allDeliveries), mutation: summarize(mutation), connectMs };
}

export async function runFanout(ctx: BenchContext): Promise<void> {
  const { fanout } = ctx.dataset;
  const gql = new GraphQLClient(ctx.graphqlUrl, fanout.token);
  const input = {
    project: fanout.project,
    tenant: fanout.tenant,
    environment: fanout.environment,
    mode: "SERVICE",
    service: fanout.service,
    targetSha: fanout.targetSha,
    justification: "bench: bad image tag, waiting for approval",
  };
  const created = await gql.request<{ requestRollback: { id: string; state: string } }>(REQUEST_ROLLBACK, { input });
  if (created.requestRollback.state !== "PENDING") throw new Error(`the fan-out request should be PENDING, it is ${created.requestRollback.state}`);
  const id = created.requestRollback.id;
  const { fanoutWarmup: warmup, fanoutRuns: runs, subscribers } = ctx.options;

  const single = await phase(gql, fanout.project, id, 1, warmup, runs, "single");
  const many = await phase(gql, fanout.project, id, subscribers, warmup, runs, "many");
  const fig = (s: Summary) => s;
  ctx.figures["F.singleSubscriber.lastDelivery"] = fig(single.last);
  ctx.figures["F.singleSubscriber.mutation"] = single.mutation;
  ctx.figures[`F.${subscribers}Subscribers.lastDelivery`] = many.last;
  ctx.figures[`F.${subscribers}Subscribers.everyDelivery`] = many.every;
  ctx.figures[`F.${subscribers}Subscribers.mutation`] = many.mutation;
  ctx.figures[`F.${subscribers}Subscribers.connectMs`] = Math.round(many.connectMs);
  ctx.rows.push(atMost("F", `fan-out to ${subscribers} subscribers, last delivery`, "ms", many.last, "1 subscriber", single.last, 20, "p99"));
  ctx.log(
    `  F ${subscribers} subscribers (connected in ${(many.connectMs / 1000).toFixed(1)} s): last delivery p99 ${many.last.p99.toFixed(1)} ms; 1 subscriber p99 ${single.last.p99.toFixed(1)} ms`,
  );
}
