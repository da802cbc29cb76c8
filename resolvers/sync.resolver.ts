import { Arg, FieldResolver, ID, Mutation, Resolver, Root, Subscription } from "type-graphql";
import { TenantEnvironment } from "../entities/tenant-environment.js";
import { notFound } from "../src/errors.js";
import type { Services } from "../src/app.js";
import type { SyncStatusSnapshot } from "../src/services/events.js";
import type { Actor } from "../src/services/actor.js";
import { CurrentActor, subscribeToProject } from "./context.js";
import { SyncReportInput } from "./types/sync-input.js";
import { SyncStatus } from "./types/sync-status.js";

@Resolver(() => SyncStatus)
export class SyncResolver {
  constructor(private readonly services: Services) {}

  /** One id per tenant-environment: every report of it is the same object to a client cache. */
  @FieldResolver(() => ID, { description: "Stable per tenant-environment, so a client cache can merge syncStatusChanged events." })
  id(@Root() status: SyncStatus): string {
    return `sync_${status.tenantEnvironmentId}`;
  }

  @FieldResolver(() => TenantEnvironment, { description: "The tenant-environment this status belongs to." })
  async tenantEnvironment(@Root() status: SyncStatus): Promise<TenantEnvironment> {
    const te = await this.services.catalog.tenantEnvironmentById(status.tenantEnvironmentId);
    if (!te) throw notFound("the tenant-environment of this sync status no longer exists");
    return te;
  }

  @Mutation(() => SyncStatus, { description: "Called by a cluster agent with an agent token." })
  reportSyncStatus(@Arg("input", () => SyncReportInput, { description: "The agent's report." }) input: SyncReportInput, @CurrentActor() actor: Actor): Promise<SyncStatus> {
    return this.services.sync.report(actor, input);
  }

  @Subscription(() => SyncStatus, {
    description: "Every sync report of matching tenant-environments (also when an agent's state changes).",
    subscribe: subscribeToProject<SyncStatusSnapshot>("syncStatusChanged"),
  })
  syncStatusChanged(
    @Root() status: SyncStatusSnapshot,
    @Arg("project", { description: "Slug of the project." }) _project: string,
    @Arg("tenant", () => String, { nullable: true, description: "Only this tenant." }) _tenant: string | null,
    @Arg("environment", () => String, { nullable: true, description: "Only this environment." }) _environment: string | null,
  ): SyncStatus {
    return status as unknown as SyncStatus;
  }
}
