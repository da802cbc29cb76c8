import type { Client } from "graphql-ws";
import type { BenchContext } from "../context.js";
import { ADD_NOTE, GraphQLClient, REQUEST_ROLLBACK, SUBSCRIBE_REQUEST } from "../client.js";
import { atMost } from "../report.js";
import { now, summarize, type Summary } from "../stats.js";

/**
 * F: N graphql-ws subscribers on one PENDING rollback request. Each measured change is a note
 * (addRollbackNote publishes the request on rollbackRequestUpdated); the clock starts just
 * before the mutation is sent and stops for each subscriber when it receives the event that
 * carries that note. Figure per change: the time to the last delivery. Beside it: the same with
 * a single subscriber.
 */

interface Update {
  rollbackRequestUpdated: { id: string; notes: { text: string }[] };
}

class Subscribers {
  private readonly clients: Client[] = [];
  private readonly waiting = new Map<number, (text: string) => void>();

  constructor(
    private readonly gql: GraphQLClient,
    private readonly project: string,
    private readonly requestId: string,
  ) {}

  async connect(count: number): Promise<void> {
    const BATCH = 100;
    for (let first = 0; first < count; first += BATCH) {
      const batch: Promise<void>[] = [];
      for (let i = first; i < Math.min(count, first + BATCH); i++) batch.push(this.add(i));
      await Promise.all(batch);
    }
  }

  private add(index: number): Promise<void> {
    const client = this.gql.ws();
    this.clients.push(client);
    return new Promise<void>((resolve, reject) => {
      const offConnected = client.on("connected", () => {
        offConnected();
        resolve();
      });
      const offClosed = client.on("closed", (event) => {
        offClosed();
        reject(new Error(`subscriber ${index} closed: ${JSON.stringify(event)}`));
      });
      client.subscribe<Update["rollbackRequestUpdated"]>(
        { query: SUBSCRIBE_REQUEST, variables: { p: this.project, id: this.requestId } },
        {
          next: (value) => {
            if (value.errors?.length) reject(new Error(`subscription error: ${JSON.stringify(value.errors)}`));
            const notes = (value.data as unknown as Update | undefined)?.rollbackRequestUpdated.notes ?? [];
            const last = notes[notes.length - 1]?.text;
            if (last !== undefined) this.waiting.get(index)?.(last);
          },
          error: (err) => reject(err instanceof Error ? err : new Error(JSON.stringify(err))),
          complete: () => undefined,
        },
      );
    });
  }

  /** Sends one note and resolves with each subscriber's delivery time (ms after the send started). */
  async change(text: string, timeoutMs = 30_000): Promise<{ deliveries: number[]; mutationMs: number }> {
    const deliveries: number[] = [];
    let resolveAll!: () => void;
    const all = new Promise<void>((resolve) => (resolveAll = resolve));
    const count = this.clients.length;
    let start = 0;
    for (let i = 0; i < count; i++) {
      this.waiting.set(i, (got) => {
        if (got !== text) return;
        this.waiting.delete(i);
        deliveries.push(now() - start);
        if (deliveries.length === count) resolveAll();
      });
    }
    const timer = setTimeout(() => resolveAll(), timeoutMs);
    start = now();
    await this.gql.request(ADD_NOTE, { id: this.requestId, text });
    const mutationMs = now() - start;
    await all;
    clearTimeout(timer);
    if (deliveries.length < count) throw new Error(`only ${deliveries.length} of ${count} subscribers got note "${text}" within ${timeoutMs} ms`);
    return { deliveries, mutationMs };
  }

  async close(): Promise<void> {
    this.waiting.clear();
    await Promise.all(this.clients.map((c) => c.dispose()));
  }
}

async function phase(gql: GraphQLClient, project: string, requestId: string, subscribers: number, warmup: number, runs: number, tag: string) {
  const subs = new Subscribers(gql, project, requestId);
  const connectStart = now();
  await subs.connect(subscribers);
  const connectMs = now() - connectStart;
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
