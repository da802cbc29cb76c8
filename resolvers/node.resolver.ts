import { Arg, ID, Query, Resolver } from "type-graphql";
import { Node, nodeTypeOf } from "../entities/node.js";
import { User } from "../entities/user.js";
import type { Services } from "../src/app.js";
import type { Actor } from "../src/services/actor.js";
import { CurrentActor } from "./context.js";

@Resolver()
export class NodeResolver {
  constructor(private readonly services: Services) {}

  @Query(() => User, { description: "The caller." })
  me(@CurrentActor() actor: Actor): User {
    return this.services.access.requireUser(actor);
  }

  @Query(() => Node, { nullable: true, description: "Any object by its id; null when it does not exist or the caller may not see it." })
  async node(@Arg("id", () => ID, { description: "The object's id." }) id: string, @CurrentActor() actor: Actor): Promise<Node | null> {
    if (!nodeTypeOf(id)) return null;
    return this.services.nodes.find(actor, id);
  }
}
