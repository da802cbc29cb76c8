import http from "node:http";
import type { AddressInfo } from "node:net";

/** One request a receiver got, as it arrived. */
export interface ReceivedRequest {
  /** Path and query, e.g. /hook?name=x. */
  path: string;
  headers: http.IncomingHttpHeaders;
  body: string;
  /** The parsed body (every delivery is JSON). */
  json: Record<string, unknown>;
  at: number;
  /** What the receiver answered. */
  status: number;
}

export interface ReceiverOptions {
  /** The status to answer the n-th request (0-based) with; default 200. */
  respond?: (n: number, request: Omit<ReceivedRequest, "status">) => number;
  /** How long to take before answering. */
  delayMs?: number;
}

/** A real HTTP server standing in for Argo CD, Flux, Slack or a chat bot: records every delivery. */
export interface Receiver {
  url: string;
  requests: ReceivedRequest[];
  /** The most requests it was answering at the same time. */
  maxConcurrent: number;
  respond: NonNullable<ReceiverOptions["respond"]>;
  delayMs: number;
  /** Waits until `predicate` holds for the requests received so far. */
  waitFor(predicate: (requests: ReceivedRequest[]) => boolean, what: string, timeoutMs?: number): Promise<ReceivedRequest[]>;
  close(): Promise<void>;
}

export async function startReceiver(options: ReceiverOptions = {}): Promise<Receiver> {
  let active = 0;
  const waiters = new Set<() => void>();
  const receiver: Receiver = {
    url: "",
    requests: [],
    maxConcurrent: 0,
    respond: options.respond ?? (() => 200),
    delayMs: options.delayMs ?? 0,
    waitFor(predicate, what, timeoutMs = 20_000) {
      return new Promise((resolve, reject) => {
        const check = () => {
          if (!predicate(receiver.requests)) return;
          clearTimeout(timer);
          waiters.delete(check);
          resolve(receiver.requests);
        };
        const timer = setTimeout(() => {
          waiters.delete(check);
          reject(
            new Error(
              `receiver: timed out waiting for ${what}; got ${receiver.requests.length} request(s): ${receiver.requests.map((r) => `${r.status} ${r.body.slice(0, 120)}`).join(" | ")}`,
            ),
          );
        }, timeoutMs);
        waiters.add(check);
        check();
      });
    },
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      active++;
      receiver.maxConcurrent = Math.max(receiver.maxConcurrent, active);
      const body = Buffer.concat(chunks).toString("utf8");
      let json: Record<string, unknown> = {};
      try {
        json = JSON.parse(body) as Record<string, unknown>;
      } catch {
        /* recorded as received */
      }
      const partial = { path: req.url ?? "", headers: req.headers, body, json, at: Date.now() };
      const status = receiver.respond(receiver.requests.length, partial);
      setTimeout(() => {
        active--;
        receiver.requests.push({ ...partial, status });
        res.writeHead(status, { "content-type": "text/plain" }).end(status < 300 ? "ok" : `failing on purpose (${status})`);
        for (const w of [...waiters]) w();
      }, receiver.delayMs);
    });
  });
  server.keepAliveTimeout = 1_000;
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  receiver.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`;
  return receiver;
}
