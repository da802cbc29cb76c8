import { createClient, type Client } from "graphql-ws";
import WebSocket from "ws";
import type { GqlError } from "./assertions.js";
import { projectId } from "./fixtures.js";
import { SYNC_STATUS_CHANGED, type SyncEvent } from "./operations.js";
import type { TestServer } from "./server.js";

/** graphql-ws clients and subscriptions as dashboards use them, and ways to know one is live. */

/** Collects the `next` payloads of one subscription until `count` arrived (or the timeout). */
export function collect<T = Record<string, unknown>>(
  client: Client,
  query: string,
  variables: Record<string, unknown>,
  count: number,
  timeoutMs = 20_000,
): { ready: Promise<void>; done: Promise<T[]>; errors: unknown[]; items: T[]; dispose: () => void } {
  const items: T[] = [];
  const errors: unknown[] = [];
  let resolveDone!: (v: T[]) => void;
  let rejectDone!: (e: unknown) => void;
  const done = new Promise<T[]>((res, rej) => {
    resolveDone = res;
    rejectDone = rej;
  });
  const timer = setTimeout(() => rejectDone(new Error(`subscription got ${items.length} of ${count} events: ${JSON.stringify(items)}`)), timeoutMs);
  // The server acknowledged the connection once `connected` fires; a short pause lets the subscribe reach it.
  const ready = new Promise<void>((resolve) => {
    const off = client.on("connected", () => {
      off();
      setTimeout(resolve, 150);
    });
  });
  const dispose = client.subscribe<T>(
    { query, variables },
    {
      next: (value) => {
        if (value.errors) errors.push(...value.errors);
        if (value.data) items.push(value.data as T);
        if (items.length >= count) {
          clearTimeout(timer);
          resolveDone(items);
        }
      },
      error: (err) => {
        errors.push(err);
        clearTimeout(timer);
        rejectDone(err);
      },
      complete: () => {
        clearTimeout(timer);
        if (items.length >= count) resolveDone(items);
        else rejectDone(new Error(`subscription completed after ${items.length} of ${count} events; errors: ${JSON.stringify(errors)}`));
      },
    },
  );
  return { ready, done, errors, items, dispose };
}

export interface Subscription<T> {
  items: T[];
  errors: unknown[];
  /** Resolves with the items once `predicate` holds for the list received so far. */
  until(predicate: (items: T[]) => boolean, timeoutMs?: number): Promise<T[]>;
  /** Resolves with the first error the subscription reports (in a payload or as its end). */
  failed(timeoutMs?: number): Promise<GqlError>;
  dispose(): void;
}

/**
 * Subscribes and records every payload. Unlike `collect`, it does not assume the server is
 * subscribed after a pause: callers make it provable by waiting for a warm-up event (`until`).
 */
export function subscribe<T>(client: Client, query: string, variables: Record<string, unknown>, field: string): Subscription<T> {
  const items: T[] = [];
  const errors: unknown[] = [];
  const waiters = new Set<() => void>();
  const notify = () => {
    for (const w of [...waiters]) w();
  };
  const dispose = client.subscribe<Record<string, T>>(
    { query, variables },
    {
      next: (value) => {
        if (value.errors) errors.push(...value.errors);
        if (value.data && value.data[field] !== undefined) items.push(value.data[field] as T);
        notify();
      },
      error: (err) => {
        errors.push(...(Array.isArray(err) ? (err as unknown[]) : [err]));
        notify();
      },
      complete: () => {
        notify();
      },
    },
  );
  const wait = <R>(check: () => R | undefined, timeoutMs: number, what: string): Promise<R> =>
    new Promise<R>((resolve, reject) => {
      const attempt = () => {
        const r = check();
        if (r !== undefined) {
          waiters.delete(attempt);
          clearTimeout(timer);
          resolve(r);
        }
      };
      const timer = setTimeout(() => {
        waiters.delete(attempt);
        reject(new Error(`${what}; got ${JSON.stringify(items)}; errors ${JSON.stringify(errors)}`));
      }, timeoutMs);
      waiters.add(attempt);
      attempt();
    });
  return {
    items,
    errors,
    until: (predicate, timeoutMs = 60_000) => wait(() => (predicate(items) ? [...items] : undefined), timeoutMs, "subscription condition not met"),
    failed: (timeoutMs = 30_000) => wait(() => (errors.length > 0 ? (errors[0] as GqlError) : undefined), timeoutMs, "subscription reported no error"),
    dispose,
  };
}

/**
 * Proves a subscription is live: runs `trigger` (which must publish an event the subscription
 * matches) until `seen` holds. The server registers a subscription asynchronously, so the first
 * trigger may come too early; repeating it is what makes this independent of timing.
 */
export async function warmUp<T>(sub: Subscription<T>, trigger: (attempt: number) => Promise<unknown>, seen: (items: T[]) => boolean, attempts = 20): Promise<void> {
  for (let attempt = 0; attempt < attempts; attempt++) {
    await trigger(attempt);
    try {
      await sub.until(seen, 3_000);
      return;
    } catch {
      // not subscribed yet: publish again
    }
  }
  throw new Error(`subscription never delivered a warm-up event; errors: ${JSON.stringify(sub.errors)}`);
}

/** The close code of a graphql-ws client's socket, once it closes. */
export function closeCode(client: Client, timeoutMs = 30_000): Promise<number> {
  return new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error("the socket did not close")), timeoutMs);
    client.on("closed", (event) => {
      clearTimeout(timer);
      resolve((event as { code: number }).code);
    });
  });
}

/** Resolves once the client's connection is acknowledged by the server. */
export function connected(client: Client, timeoutMs = 30_000): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error("the socket did not connect")), timeoutMs);
    client.on("connected", () => {
      clearTimeout(timer);
      resolve();
    });
  });
}

export function wsClient(url: string, token: string | null): Client {
  return createClient({
    url,
    webSocketImpl: WebSocket,
    connectionParams: token ? { authorization: `Bearer ${token}` } : {},
    retryAttempts: 0,
    lazy: true,
  });
}

export interface Watch<T> {
  items: T[];
  errors: unknown[];
  /** Resolves with the first item (arrived or arriving) that matches. */
  waitFor(predicate: (item: T) => boolean, what: string, timeoutMs?: number): Promise<T>;
  dispose(): void;
}

/**
 * A subscription that records every event. `live` publishes a probe event on the app's real event
 * bus until the subscription receives it, so the test knows the subscription is in place before
 * it acts (no sleeping and hoping). Probe events are dropped from `items`.
 */
export async function watch<T extends Record<string, unknown>>(
  client: Client,
  query: string,
  variables: Record<string, unknown>,
  options: { probe: () => void; isProbe: (item: T) => boolean; timeoutMs?: number },
): Promise<Watch<T>> {
  const items: T[] = [];
  const errors: unknown[] = [];
  const waiters: { predicate: (item: T) => boolean; resolve: (item: T) => void }[] = [];
  let probed = false;
  const dispose = client.subscribe<T>(
    { query, variables },
    {
      next: (value) => {
        if (value.errors) errors.push(...value.errors);
        const item = value.data as T | undefined;
        if (!item) return;
        if (options.isProbe(item)) {
          probed = true;
          return;
        }
        items.push(item);
        for (const w of [...waiters]) {
          if (w.predicate(item)) {
            waiters.splice(waiters.indexOf(w), 1);
            w.resolve(item);
          }
        }
      },
      error: (err) => errors.push(err),
      complete: () => undefined,
    },
  );
  const deadline = Date.now() + (options.timeoutMs ?? 20_000);
  while (!probed) {
    if (errors.length > 0) throw new Error(`subscription failed: ${JSON.stringify(errors)}`);
    if (Date.now() > deadline) throw new Error("subscription never became live");
    options.probe();
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    items,
    errors,
    dispose,
    waitFor(predicate, what, timeoutMs = 30_000) {
      const found = items.find(predicate);
      if (found) return Promise.resolve(found);
      return new Promise<T>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`no ${what} event; got ${JSON.stringify(items)} errors ${JSON.stringify(errors)}`)), timeoutMs);
        waiters.push({
          predicate,
          resolve: (item) => {
            clearTimeout(timer);
            resolve(item);
          },
        });
      });
    },
  };
}

/** The deploymentRecorded fields a probe event can carry (see watchDeployments). */
const DEPLOYMENT_RECORDED_SLIM = `subscription($p:String!,$t:String,$e:String){ deploymentRecorded(project:$p,tenant:$t,environment:$e){ id revision status source } }`;

/** Subscribes to syncStatusChanged of one tenant-environment, live before it returns. */
export async function watchSync(t: TestServer, client: Client, tenant: string, environment: string) {
  const pid = await projectId(t, "demo");
  return watch<{ syncStatusChanged: SyncEvent }>(
    client,
    SYNC_STATUS_CHANGED,
    { p: "demo", t: tenant, e: environment },
    {
      probe: () =>
        t.app.events.syncStatusChanged({
          projectId: pid,
          tenant,
          environment,
          tenantEnvironmentId: "probe",
          revision: "probe",
          state: "UNKNOWN",
          agent: "NEVER_SEEN",
          lastReportAt: null,
          health: null,
          drift: [],
        }),
      isProbe: (item) => item.syncStatusChanged.revision === "probe",
    },
  );
}

/** Subscribes to deploymentRecorded of one tenant-environment, live before it returns. */
export async function watchDeployments(t: TestServer, client: Client, tenant: string, environment: string) {
  const pid = await projectId(t, "demo");
  return watch<{ deploymentRecorded: { id: string; revision: string; status: string; source: string } }>(
    client,
    DEPLOYMENT_RECORDED_SLIM,
    { p: "demo", t: tenant, e: environment },
    {
      probe: () =>
        t.app.events.bus.publish(`deploymentRecorded:${pid}`, {
          tenant,
          environment,
          deployment: { id: "probe", revision: "probe", status: "PENDING", source: "RELEASE", projectId: pid } as never,
        }),
      isProbe: (item) => item.deploymentRecorded.revision === "probe",
    },
  );
}
