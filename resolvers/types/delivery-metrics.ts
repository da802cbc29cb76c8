import { Field, Float, Int, ObjectType } from "type-graphql";

@ObjectType()
export class RecurringRollback {
  @Field(() => String, { nullable: true, description: "null for FULL rollbacks." })
  service: string | null;

  @Field()
  targetRevision: string;

  @Field(() => Int)
  count: number;

  @Field()
  lastAt: Date;
}

@ObjectType({ description: "Delivery figures of one tenant-environment over a period, computed from the deployment history." })
export class DeliveryMetrics {
  @Field()
  tenant: string;

  @Field()
  environment: string;

  @Field()
  since: Date;

  @Field()
  until: Date;

  @Field(() => Int, { description: "RELEASE and PROMOTION deployments in the period." })
  deployments: number;

  @Field(() => Float)
  deploymentsPerDay: number;

  @Field(() => Float, { description: "Deployments of the period that ended FAILED or ROLLED_BACK, over deployments." })
  changeFailureRate: number;

  @Field(() => Int)
  rollbacks: number;

  @Field(() => Float, {
    nullable: true,
    description: "Mean seconds from a failed deployment to the deployment that restored service (the next ROLLBACK or SUCCESS deployment); null when none recovered.",
  })
  meanTimeToRecoverySeconds: number | null;

  @Field(() => [RecurringRollback], { description: "Targets rolled back to more than once in the period: a recurring issue to fix at the root." })
  recurringRollbacks: RecurringRollback[];
}
