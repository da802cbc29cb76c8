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

export function createEventBus(eventTarget?: PubSubEventTarget<Topics>): AppPubSub {
  if (eventTarget) return createPubSub<Topics>({ eventTarget });
  // Every subscriber is a listener on its project's topic: hundreds on one are expected, not a leak.
  const local = new EventTarget();
  setMaxListeners(0, local);
  return createPubSub<Topics>({ eventTarget: local as PubSubEventTarget<Topics> });
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
    this.bus.publish(`rollbackRequestUpdated:${request.projectId}`, snapshot(request));
  }

  deploymentRecorded(tenant: string, environment: string, deployment: Deployment): void {
    this.bus.publish(`deploymentRecorded:${deployment.projectId}`, { tenant, environment, deployment: snapshot(deployment) });
  }

  syncStatusChanged(status: SyncStatusSnapshot): void {
    this.bus.publish(`syncStatusChanged:${status.projectId}`, snapshot(status));
  }

  subscribe<T>(topic: keyof Topics, predicate: (payload: T) => boolean): AsyncIterable<T> {
    return pipe(this.bus.subscribe(topic) as unknown as AsyncIterable<T>, filter(predicate));
  }
}

/** A plain copy, detached from entity instances that may change after publishing. */
function snapshot<T>(value: T): T {
  return JSON.parse(JSON.stringify(value)) as T;
}
