import { setMaxListeners } from "node:events";
import { createPubSub, filter, pipe, type PubSub, type PubSubEventTarget } from "@graphql-yoga/subscription";
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
  constructor(readonly bus: AppPubSub) {}

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
