import { Arg, Args, Int, Query, Resolver } from "type-graphql";
import type { Services } from "../src/app.js";
import type { Actor } from "../src/services/actor.js";
import { CurrentActor } from "./context.js";
import { AuditEventConnection, toConnection } from "./types/connections.js";
import { BackwardPageArgs, Paging } from "./types/page-args.js";
import type { PageRequest } from "../src/services/paging.js";
import { AuditChainVerification } from "./types/console-views.js";

@Resolver()
export class AuditResolver {
  constructor(private readonly services: Services) {}

  @Query(() => AuditEventConnection, { description: "The project's audit trail, newest first." })
  async auditEvents(
    @Arg("project", { description: "Slug of the project." }) project: string,
    @Arg("first", () => Int, { nullable: true, defaultValue: 50, description: "Page size, 0 to 500." }) _first: number,
    @Arg("after", () => String, { nullable: true, description: "Cursor (an edge's cursor or pageInfo.endCursor) to continue after." }) _after: string | null,
    @Args() _backward: BackwardPageArgs,
    @Arg("breakGlassOnly", () => Boolean, { nullable: true, defaultValue: false, description: "Only actions taken under a break-glass session." }) breakGlassOnly: boolean,
    @Paging() paging: PageRequest,
    @CurrentActor() actor: Actor,
  ): Promise<AuditEventConnection> {
    return toConnection(await this.services.audit.events(actor, project, { ...paging, breakGlassOnly }));
  }

  // Nullable (no contract fixes it): a project the caller cannot read nulls this field only, not the operation's other fields.
  @Query(() => AuditChainVerification, {
    nullable: true,
    description: "Walks the project's audit hash chain from its first event, as `cli audit verify` does; null, with the error, when the project cannot be read.",
  })
  async auditChainVerification(@Arg("project", { description: "Slug of the project." }) project: string, @CurrentActor() actor: Actor): Promise<AuditChainVerification> {
    const access = await this.services.access.project(actor, project);
    const result = await this.services.audit.verify(access.project.id);
    return { intact: result.ok, checked: result.checked, firstBreak: result.firstBreak && { ...result.firstBreak, eventId: result.firstBreak.eventId || null } };
  }
}
