import { Arg, Args, FieldResolver, ID, Mutation, Resolver, Root } from "type-graphql";
import { FreezeWindow } from "../entities/freeze-window.js";
import type { Services } from "../src/app.js";
import type { Actor } from "../src/services/actor.js";
import { CurrentActor } from "./context.js";
import { FreezeWindowArgs } from "./types/automation-args.js";

@Resolver(() => FreezeWindow)
export class FreezeWindowResolver {
  constructor(private readonly services: Services) {}

  @Mutation(() => FreezeWindow, { description: "ADMIN only. Freezes deployments to an environment for a period." })
  createFreezeWindow(@Args() args: FreezeWindowArgs, @CurrentActor() actor: Actor): Promise<FreezeWindow> {
    return this.services.freezes.create(actor, args);
  }

  @Mutation(() => FreezeWindow, { description: "ADMIN only. Removes a freeze window and returns it." })
  deleteFreezeWindow(@Arg("id", () => ID, { description: "Id of the window (frz_...)." }) id: string, @CurrentActor() actor: Actor): Promise<FreezeWindow> {
    return this.services.freezes.delete(actor, id);
  }

  @FieldResolver(() => Boolean, { description: "True while the window is open (startsAt <= now < endsAt)." })
  active(@Root() window: FreezeWindow): boolean {
    const now = Date.now();
    return new Date(window.startsAt).getTime() <= now && now < new Date(window.endsAt).getTime();
  }
}
