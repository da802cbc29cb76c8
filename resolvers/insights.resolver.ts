import { Arg, Query, Resolver } from "type-graphql";
import type { Services } from "../src/app.js";
import type { Actor } from "../src/services/actor.js";
import { CurrentActor } from "./context.js";
import { DeliveryMetrics } from "./types/delivery-metrics.js";

@Resolver()
export class InsightsResolver {
  constructor(private readonly services: Services) {}

  @Query(() => [DeliveryMetrics], { description: "Per tenant-environment of the project (or the one tenant or environment given); the period defaults to the last 30 days." })
  deliveryMetrics(
    @Arg("project", { description: "Slug of the project." }) project: string,
    @Arg("tenant", () => String, { nullable: true, description: "Only this tenant." }) tenant: string | null,
    @Arg("environment", () => String, { nullable: true, description: "Only this environment." }) environment: string | null,
    @Arg("since", () => Date, { nullable: true, description: "Start of the period; defaults to 30 days before until." }) since: Date | null,
    @Arg("until", () => Date, { nullable: true, description: "End of the period; defaults to now." }) until: Date | null,
    @CurrentActor() actor: Actor,
  ): Promise<DeliveryMetrics[]> {
    return this.services.deliveryMetrics.metrics(actor, { project, tenant, environment, since, until });
  }
}
