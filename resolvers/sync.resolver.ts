import { Arg, Mutation, Resolver, Root, Subscription } from "type-graphql";
import type { Services } from "../src/app.js";
import type { SyncStatusSnapshot } from "../src/services/events.js";
import type { Actor } from "../src/services/actor.js";
import { CurrentActor, subscribeToProject } from "./context.js";
import { SyncReportInput } from "./types/sync-input.js";
import { SyncStatus } from "./types/sync-status.js";

@Resolver()
export class SyncResolver {
  constructor(private readonly services: Services) {}

  @Mutation(() => SyncStatus, { description: "Called by a cluster agent with an agent token." })
  reportSyncStatus(@Arg("input", () => SyncReportInput) input: SyncReportInput, @CurrentActor() actor: Actor): Promise<SyncStatus> {
    return this.services.sync.report(actor, input);
  }

  @Subscription(() => SyncStatus, {
    description: "Every sync report of matching tenant-environments (also when an agent's state changes).",
    subscribe: subscribeToProject<SyncStatusSnapshot>("syncStatusChanged"),
  })
  syncStatusChanged(
    @Root() status: SyncStatusSnapshot,
    @Arg("project") _project: string,
    @Arg("tenant", () => String, { nullable: true }) _tenant: string | null,
    @Arg("environment", () => String, { nullable: true }) _environment: string | null,
  ): SyncStatus {
    return status as unknown as SyncStatus;
  }
}
