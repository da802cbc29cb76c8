import { Field, Float, Int, ObjectType } from "type-graphql";

@ObjectType({ description: "A revision rolled back to more than once in a period." })
export class RecurringRollback {
  @Field(() => String, { nullable: true, description: "The service rolled back; null for FULL rollbacks." })
  service: string | null;

  @Field({ description: "Full sha rolled back to." })
  targetRevision: string;

  @Field(() => Int, { description: "How many rollbacks went to it." })
  count: number;

  @Field({ description: "When the latest of them happened." })
  lastAt: Date;
}

@ObjectType({ description: "Delivery figures of one tenant-environment over a period, computed from the deployment history." })
export class DeliveryMetrics {
  @Field({ description: "Slug of the tenant." })
  tenant: string;

  @Field({ description: "Environment name." })
  environment: string;

  @Field({ description: "Start of the period." })
  since: Date;

  @Field({ description: "End of the period." })
  until: Date;

  @Field(() => Int, { description: "RELEASE and PROMOTION deployments in the period." })
  deployments: number;

  @Field(() => Float, { description: "Deployments over the period's days." })
  deploymentsPerDay: number;

  @Field(() => Float, { description: "Deployments of the period that ended FAILED or ROLLED_BACK, over deployments." })
  changeFailureRate: number;

  @Field(() => Int, { description: "ROLLBACK deployments in the period." })
  rollbacks: number;

  @Field(() => Float, {
    nullable: true,
    description: "Mean seconds from a failed deployment to the deployment that restored service (the next ROLLBACK or SUCCESS deployment); null when none recovered.",
  })
  meanTimeToRecoverySeconds: number | null;

  @Field(() => [RecurringRollback], { description: "Targets rolled back to more than once in the period: a recurring issue to fix at the root." })
  recurringRollbacks: RecurringRollback[];
}
