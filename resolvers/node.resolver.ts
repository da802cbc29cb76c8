import { Arg, Ctx, ID, Query, Resolver } from "type-graphql";
import { Node, nodeTypeOf } from "../entities/node.js";
import { User } from "../entities/user.js";
import type { Services } from "../src/app.js";
import { requireActor, type RequestContext } from "./context.js";

@Resolver()
export class NodeResolver {
  constructor(private readonly services: Services) {}

  @Query(() => User)
  me(@Ctx() ctx: RequestContext): User {
    return this.services.access.requireUser(requireActor(ctx));
  }

  @Query(() => Node, { nullable: true })
  async node(@Arg("id", () => ID) id: string, @Ctx() ctx: RequestContext): Promise<Node | null> {
    const actor = requireActor(ctx);
    if (!nodeTypeOf(id)) return null;
    return this.services.nodes.find(actor, id);
  }
}
