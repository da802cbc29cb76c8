import { Arg, ID, Query, Resolver } from "type-graphql";
import { Node, nodeTypeOf } from "../entities/node.js";
import { User } from "../entities/user.js";
import type { Services } from "../src/app.js";
import type { Actor } from "../src/services/actor.js";
import { CurrentActor } from "./context.js";

@Resolver()
export class NodeResolver {
  constructor(private readonly services: Services) {}

  @Query(() => User)
  me(@CurrentActor() actor: Actor): User {
    return this.services.access.requireUser(actor);
  }

  @Query(() => Node, { nullable: true })
  async node(@Arg("id", () => ID) id: string, @CurrentActor() actor: Actor): Promise<Node | null> {
    if (!nodeTypeOf(id)) return null;
    return this.services.nodes.find(actor, id);
  }
}
