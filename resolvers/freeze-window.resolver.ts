import { Arg, Args, Ctx, FieldResolver, ID, Mutation, Resolver, Root } from "type-graphql";
import { FreezeWindow } from "../entities/freeze-window.js";
import type { Services } from "../src/app.js";
import { requireActor, type RequestContext } from "./context.js";
import { FreezeWindowArgs } from "./types/automation-args.js";

@Resolver(() => FreezeWindow)
export class FreezeWindowResolver {
  constructor(private readonly services: Services) {}

  @Mutation(() => FreezeWindow)
  createFreezeWindow(@Args() args: FreezeWindowArgs, @Ctx() ctx: RequestContext): Promise<FreezeWindow> {
    return this.services.freezes.create(requireActor(ctx), args);
  }

  @Mutation(() => FreezeWindow)
  deleteFreezeWindow(@Arg("id", () => ID) id: string, @Ctx() ctx: RequestContext): Promise<FreezeWindow> {
    return this.services.freezes.delete(requireActor(ctx), id);
  }

  @FieldResolver(() => Boolean, { description: "True while the window is open (startsAt <= now < endsAt)." })
  active(@Root() window: FreezeWindow): boolean {
    const now = Date.now();
    return new Date(window.startsAt).getTime() <= now && now < new Date(window.endsAt).getTime();
  }
}
