import type { Services } from "../src/app.js";
import { unauthenticated } from "../src/errors.js";
import type { Actor } from "../src/services/actor.js";

/** What every resolver gets: the caller (if the token was good) and the services. */
export interface RequestContext {
  actor: Actor | null;
  /** Why there is no actor although credentials were sent. */
  authError: string | null;
  services: Services;
}

/** The authenticated caller, or UNAUTHENTICATED (401) with the reason. */
export function requireActor(ctx: RequestContext): Actor {
  if (ctx.actor) return ctx.actor;
  throw unauthenticated(ctx.authError ?? undefined);
}
