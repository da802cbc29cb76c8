import { createParameterDecorator, type SubscribeResolverData } from "type-graphql";
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

/** The authenticated caller as a resolver parameter (`@CurrentActor() actor: Actor`); UNAUTHENTICATED (401) without one. */
export function CurrentActor() {
  return createParameterDecorator<RequestContext>(({ context }) => requireActor(context));
}

type ProjectTopic = "rollbackRequestUpdated" | "deploymentRecorded" | "syncStatusChanged";
interface Filterable {
  tenant?: string | null;
  environment?: string | null;
  id?: string | null;
}

/**
 * The `subscribe` of a project's events: the caller must be able to read the project (else
 * NOT_FOUND, like a project that does not exist), and only the events matching the `tenant`,
 * `environment` and `id` arguments given reach them. With `agentsOfTheProject`, the project's
 * own agent tokens may listen too.
 */
export function subscribeToProject<T extends Filterable>(topic: ProjectTopic, options: { agentsOfTheProject?: boolean } = {}) {
  return async ({ args, context }: SubscribeResolverData<unknown, Record<string, unknown>, RequestContext>): Promise<AsyncIterable<T>> => {
    const actor = requireActor(context);
    const slug = args.project as string;
    const project = options.agentsOfTheProject ? await context.services.access.projectForEvents(actor, slug) : (await context.services.access.project(actor, slug)).project;
    const { tenant, environment, id } = args as Filterable;
    return context.services.events.subscribe<T>(
      `${topic}:${project.id}`,
      (e) => (!tenant || e.tenant === tenant) && (!environment || e.environment === environment) && (!id || e.id === id),
    );
  };
}
