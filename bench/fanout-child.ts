import type { Client } from "graphql-ws";
import { GraphQLClient, SUBSCRIBE_REQUEST } from "./client.js";

/**
 * The subscribers of scenario F, in a process of their own, as dashboards would be: the server's
 * process pays for sending each event, not for receiving and parsing it 1,000 times. On "expect"
 * it arms every subscriber for one note text and answers with the wall-clock time (ms since the
 * epoch, sub-millisecond) at which each of them received the event carrying it.
 *
 * argv: graphqlUrl token project requestId count
 */

export type FanoutMessage = { cmd: "expect"; text: string; timeoutMs: number } | { cmd: "close" };
export type FanoutReply =
  { kind: "connected"; connectMs: number } | { kind: "armed" } | { kind: "delivered"; at: number[] } | { kind: "closed" } | { kind: "error"; message: string };

interface Update {
  rollbackRequestUpdated: { id: string; notes: { text: string }[] };
}

const wallClock = () => performance.timeOrigin + performance.now();

async function main(): Promise<void> {
  const [url, token, project, requestId, countArg] = process.argv.slice(2);
  const count = Number(countArg);
  const send = (reply: FanoutReply) => process.send!(reply);
  const gql = new GraphQLClient(url!, token!);
  const clients: Client[] = [];
  const listeners = new Map<number, (text: string) => void>();

  const add = (index: number) =>
    new Promise<void>((resolve, reject) => {
      const client = gql.ws();
      clients.push(client);
      const offConnected = client.on("connected", () => {
        offConnected();
        resolve();
      });
      client.on("closed", (event) => reject(new Error(`subscriber ${index} closed: ${JSON.stringify(event)}`)));
      client.subscribe(
        { query: SUBSCRIBE_REQUEST, variables: { p: project, id: requestId } },
        {
          next: (value) => {
            if (value.errors?.length) send({ kind: "error", message: `subscription error: ${JSON.stringify(value.errors)}` });
            const notes = (value.data as unknown as Update | undefined)?.rollbackRequestUpdated.notes ?? [];
            const last = notes[notes.length - 1]?.text;
            if (last !== undefined) listeners.get(index)?.(last);
          },
          error: (err) => send({ kind: "error", message: err instanceof Error ? err.message : JSON.stringify(err) }),
          complete: () => undefined,
        },
      );
    });

  const started = performance.now();
  for (let first = 0; first < count; first += 100) {
    await Promise.all(Array.from({ length: Math.min(100, count - first) }, (_, k) => add(first + k)));
  }
  send({ kind: "connected", connectMs: performance.now() - started });

  process.on("message", (message: FanoutMessage) => {
    if (message.cmd === "close") {
      void Promise.all(clients.map(async (c) => c.dispose())).then(() => {
        send({ kind: "closed" });
        process.exit(0);
      });
      return;
    }
    const at: number[] = [];
    const timer = setTimeout(
      () => send({ kind: "error", message: `only ${at.length} of ${count} subscribers got "${message.text}" within ${message.timeoutMs} ms` }),
      message.timeoutMs,
    );
    for (let i = 0; i < count; i++) {
      listeners.set(i, (text) => {
        if (text !== message.text) return;
        listeners.delete(i);
        at.push(wallClock());
        if (at.length === count) {
          clearTimeout(timer);
          send({ kind: "delivered", at });
        }
      });
    }
    send({ kind: "armed" });
  });
}

main().catch((err: unknown) => {
  process.send?.({ kind: "error", message: err instanceof Error ? err.message : String(err) } satisfies FanoutReply);
  process.exit(1);
});
