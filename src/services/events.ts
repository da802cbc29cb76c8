import { setMaxListeners } from "node:events";
import { createPubSub, filter, pipe, type PubSub, type PubSubEventTarget } from "@graphql-yoga/subscription";
import type { EntityManager } from "typeorm";
import type { Deployment } from "../../entities/deployment.js";
import type { RollbackRequest } from "../../entities/rollback-request.js";

/**
 * Subscription events. Payloads are full snapshots taken at the moment of the change, so a
 * subscriber sees every state in order even when changes follow each other within milliseconds,
 * and they survive a trip through Redis as JSON.
 */
export interface SyncStatusSnapshot {
  projectId: string;
  tenant: string;
  environment: string;
  tenantEnvironmentId: string;
  revision: string | null;
  state: string;
  agent: string;
  lastReportAt: string | Date | null;
  health: string | null;
  drift: unknown[];
}

export type Topics = {
  [key: `rollbackRequestUpdated:${string}`]: [RollbackRequest];
  [key: `deploymentRecorded:${string}`]: [DeploymentEvent];
  [key: `syncStatusChanged:${string}`]: [SyncStatusSnapshot];
};

export interface DeploymentEvent {
  tenant: string;
  environment: string;
  deployment: Deployment;
}

/** A commit the server wrote and pushed to a project's branch (a GIT_PUSH webhook event). */
export interface GitPushEvent {
  project: string;
  branch: string;
  before: string | null;
  after: string;
  tree: string;
  message: string;
  author: { name: string; email: string };
  date: Date;
  added: string[];
  removed: string[];
  modified: string[];
}

/** An event as the transaction that caused it records it for webhooks. */
export type StagedEvent = { projectId: string; occurredAt: Date } & (
  | { topic: "rollbackRequestUpdated"; requestId: string }
  | { topic: "deploymentRecorded"; event: DeploymentEvent }
  | { topic: "syncStatusChanged"; status: SyncStatusSnapshot }
  | { topic: "gitPushed"; push: GitPushEvent }
);

/** The durable side of publishing (the webhook outbox): written in the transaction of the change itself. */
export interface EventOutbox {
  stage(tx: EntityManager, event: StagedEvent): void;
}

export type AppPubSub = PubSub<Topics>;

/**
 * The in-process event target, knowing which topics have listeners: a snapshot published to a
 * topic nobody in this process listens to would be built and dispatched for no one.
 */
class ListenedEventTarget extends EventTarget {
  private readonly listeners = new Map<string, Set<unknown>>();

  override addEventListener(...[type, callback, options]: Parameters<EventTarget["addEventListener"]>): void {
    super.addEventListener(type, callback, options);
    if (!callback) return;
    let set = this.listeners.get(type);
    if (!set) this.listeners.set(type, (set = new Set()));
    set.add(callback);
  }

  override removeEventListener(...[type, callback, options]: Parameters<EventTarget["removeEventListener"]>): void {
    super.removeEventListener(type, callback, options);
    const set = this.listeners.get(type);
    if (!set || !callback) return;
    set.delete(callback);
    if (set.size === 0) this.listeners.delete(type);
  }

  listened(type: string): boolean {
    return this.listeners.has(type);
  }
}

/** Buses whose subscribers are all in this process (no Redis), with their target. */
const localTargets = new WeakMap<AppPubSub, ListenedEventTarget>();

export function createEventBus(eventTarget?: PubSubEventTarget<Topics>): AppPubSub {
  if (eventTarget) return createPubSub<Topics>({ eventTarget });
  // Every subscriber is a listener on its project's topic: hundreds on one are expected, not a leak.
  const local = new ListenedEventTarget();
  setMaxListeners(0, local);
  const bus = createPubSub<Topics>({ eventTarget: local as unknown as PubSubEventTarget<Topics> });
  localTargets.set(bus, local);
  return bus;
}

/** Publishing helpers: topics are per project, so a subscriber only receives its project's events. */
export class Events {
  private outbox: EventOutbox | null = null;

  constructor(readonly bus: AppPubSub) {}

  useOutbox(outbox: EventOutbox): void {
    this.outbox = outbox;
  }

  /**
   * Records events in `tx`, so they reach webhooks exactly when the change commits (and never
   * when it rolls back). Call it inside the transaction that makes the change; publishing to
   * subscribers still happens after the commit, with the methods below.
   */
  inTransaction(tx: EntityManager) {
    const stage = (event: StagedEvent) => this.outbox?.stage(tx, event);
    const occurredAt = new Date();
    return {
      rollbackRequestUpdated: (projectId: string, requestId: string) => stage({ topic: "rollbackRequestUpdated", projectId, occurredAt, requestId }),
      deploymentRecorded: (tenant: string, environment: string, deployment: Deployment) =>
        stage({ topic: "deploymentRecorded", projectId: deployment.projectId, occurredAt, event: { tenant, environment, deployment: snapshot(deployment) } }),
      syncStatusChanged: (status: SyncStatusSnapshot) => stage({ topic: "syncStatusChanged", projectId: status.projectId, occurredAt, status: snapshot(status) }),
      gitPushed: (projectId: string, push: GitPushEvent) => stage({ topic: "gitPushed", projectId, occurredAt, push }),
    };
  }

  rollbackRequestUpdated(request: RollbackRequest): void {
    const topic = `rollbackRequestUpdated:${request.projectId}` as const;
    if (this.listened(topic)) this.bus.publish(topic, snapshot(request));
  }

  deploymentRecorded(tenant: string, environment: string, deployment: Deployment): void {
    const topic = `deploymentRecorded:${deployment.projectId}` as const;
    if (this.listened(topic)) this.bus.publish(topic, { tenant, environment, deployment: snapshot(deployment) });
  }

  syncStatusChanged(status: SyncStatusSnapshot): void {
    const topic = `syncStatusChanged:${status.projectId}` as const;
    if (this.listened(topic)) this.bus.publish(topic, snapshot(status));
  }

  /** False only when every subscriber is in this process and none listens to `topic` (Redis carries events to other replicas). */
  private listened(topic: string): boolean {
    return localTargets.get(this.bus)?.listened(topic) ?? true;
  }

  subscribe<T>(topic: keyof Topics, predicate: (payload: T) => boolean): AsyncIterable<T> {
    return pipe(this.bus.subscribe(topic) as unknown as AsyncIterable<T>, filter(predicate));
  }
}

/** A plain copy, detached from entity instances that may change after publishing. */
function snapshot<T>(value: T): T {
  return JSON.parse(JSON.stringify(value)) as T;
}
