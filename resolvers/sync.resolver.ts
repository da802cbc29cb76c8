import { Arg, Ctx, Mutation, Resolver, Root, Subscription } from "type-graphql";
import type { Services } from "../src/app.js";
import type { SyncStatusSnapshot } from "../src/services/events.js";
import { requireActor, type RequestContext } from "./context.js";
import { SyncReportInput } from "./types/sync-input.js";
import { SyncStatus } from "./types/sync-status.js";

@Resolver()
export class SyncResolver {
  constructor(private readonly services: Services) {}

  @Mutation(() => SyncStatus, { description: "Called by a cluster agent with an agent token." })
  reportSyncStatus(@Arg("input", () => SyncReportInput) input: SyncReportInput, @Ctx() ctx: RequestContext): Promise<SyncStatus> {
    return this.services.sync.report(requireActor(ctx), input);
  }

  @Subscription(() => SyncStatus, {
    description: "Every sync report of matching tenant-environments (also when an agent's state changes).",
    subscribe: async ({ args, context }) => {
      const ctx = context as RequestContext;
      const { project } = await ctx.services.access.project(requireActor(ctx), args.project as string);
      const { tenant, environment } = args as { tenant?: string | null; environment?: string | null };
      return ctx.services.events.subscribe<SyncStatusSnapshot>(
        `syncStatusChanged:${project.id}`,
        (s) => (!tenant || s.tenant === tenant) && (!environment || s.environment === environment),
      );
    },
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
