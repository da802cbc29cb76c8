import { Field, ObjectType } from "type-graphql";
import { Column, Entity, Index, JoinColumn, ManyToOne, PrimaryColumn, type Relation } from "typeorm";
import { HoldReleaseKind } from "./enums.js";
import { Node } from "./node.js";
import { JSONScalar } from "./scalars.js";
import { User } from "./user.js";

/** A value a completed rollback undid: deploying it again to the same place is refused until the hold is released or overridden. */
@ObjectType({
  implements: Node,
  description: "A value a completed rollback undid; deploying it again to the same place is refused until the hold is released or overridden.",
})
@Entity("deployment_hold")
@Index(["tenantEnvironmentId", "service"])
export class DeploymentHold extends Node {
  @PrimaryColumn({ type: "varchar", length: 40 })
  declare id: string;

  @Column({ type: "varchar", length: 40 })
  projectId: string;

  @Column({ type: "varchar", length: 40 })
  tenantEnvironmentId: string;

  @Field({ description: "Tenant whose deployments the hold guards." })
  @Column({ type: "varchar", length: 100 })
  tenant: string;

  @Field({ description: "Environment whose deployments the hold guards." })
  @Column({ type: "varchar", length: 100 })
  environment: string;

  @Field({ description: "Service whose field holds the value." })
  @Column({ type: "varchar", length: 100 })
  service: string;

  @Field({ description: "Field selector '[file:]dotted.path', e.g. image.tag or variables:LOG_LEVEL." })
  @Column({ type: "varchar", length: 500 })
  field: string;

  @Field(() => JSONScalar, { nullable: true, description: "The value that was rolled back and may not return unreviewed." })
  @Column({ type: "simple-json", nullable: true })
  heldValue: unknown;

  @Index()
  @Column({ type: "varchar", length: 40 })
  rollbackRequestId: string;

  @Field({ description: "When the rollback placed the hold." })
  @Column()
  createdAt: Date;

  @Field(() => Date, { nullable: true, description: "When the hold ended; null while it is active." })
  @Column({ type: Date, nullable: true })
  releasedAt: Date | null;

  @Column({ type: "varchar", length: 40, nullable: true })
  releasedById: string | null;

  @Field(() => User, { nullable: true, description: "Who released or overrode the hold; null while active or when a rollback ended it." })
  @ManyToOne(() => User, { createForeignKeyConstraints: false })
  @JoinColumn({ name: "releasedById" })
  releasedBy: Relation<User> | null;

  @Field(() => String, { nullable: true, description: "Why the hold was released or overridden, as entered." })
  @Column({ type: "text", nullable: true })
  releaseJustification: string | null;

  @Field(() => HoldReleaseKind, { nullable: true, description: "How the hold ended: released by hand, overridden by a deploy, or by a rollback to a revision holding the value." })
  @Column({ type: "varchar", length: 20, nullable: true })
  releaseKind: HoldReleaseKind | null;
}
