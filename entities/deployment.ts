import { Field, ObjectType } from "type-graphql";
import { Column, Entity, Index, JoinColumn, ManyToOne, PrimaryColumn, type Relation } from "typeorm";
import { DeploymentSource, DeploymentStatus } from "./enums.js";
import { FieldChange } from "./field-change.js";
import { Node } from "./node.js";
import { User } from "./user.js";

/** One commit that changed one tenant-environment. The index over Git: rebuildable from commit trailers. */
@ObjectType({ implements: Node, description: "One commit to a tenant-environment's folder in the project's repository: a release, a promotion or a rollback." })
@Entity("deployment")
@Index(["tenantEnvironmentId", "seq"], { unique: true })
@Index(["tenantEnvironmentId", "revision"], { unique: true })
@Index(["tenantEnvironmentId", "source", "seq"])
@Index(["tenantEnvironmentId", "status", "seq"])
@Index(["tenantEnvironmentId", "deployedAt"])
export class Deployment extends Node {
  @PrimaryColumn({ type: "varchar", length: 40 })
  declare id: string;

  @Index()
  @Column({ type: "varchar", length: 40 })
  projectId: string;

  @Column({ type: "varchar", length: 40 })
  tenantEnvironmentId: string;

  /** Position in the tenant-environment's history, 1 for the first; keyset paging runs on it. */
  @Column({ type: "integer" })
  seq: number;

  @Field({ description: "Full commit sha." })
  @Index()
  @Column({ type: "varchar", length: 64 })
  revision: string;

  @Column({ type: "varchar", length: 64, nullable: true })
  parentRevision: string | null;

  @Field({ description: "When the commit was made." })
  @Column()
  deployedAt: Date;

  @Column({ type: "varchar", length: 40 })
  authorId: string;

  @Field(() => User, { description: "Who deployed (the commit's author)." })
  @ManyToOne(() => User, { createForeignKeyConstraints: false })
  @JoinColumn({ name: "authorId" })
  author: Relation<User>;

  @Field({ description: "One-line summary of the change (the commit's subject)." })
  @Column({ type: "varchar", length: 500 })
  summary: string;

  @Field(() => [FieldChange], { description: "What changed against the previous deployment of the same tenant-environment." })
  @Column({ type: "simple-json" })
  changes: FieldChange[];

  /** Paths changed by this deployment, relative to the tenant-environment directory. */
  @Column({ type: "simple-json" })
  files: string[];

  @Field(() => DeploymentSource, { description: "How the deployment came about: RELEASE, PROMOTION or ROLLBACK." })
  @Column({ type: "varchar", length: 20 })
  source: DeploymentSource;

  @Field(() => DeploymentStatus, { description: "Whether the cluster runs it, from the agent's reports (PENDING until one arrives); ROLLED_BACK once a rollback undid it." })
  @Column({ type: "varchar", length: 20 })
  status: DeploymentStatus;

  @Index()
  @Column({ type: "varchar", length: 40, nullable: true })
  rollbackRequestId: string | null;
}

/** Per tenant-environment counts by source and status, so totalCount costs the same at any history length. */
@Entity("deployment_count")
export class DeploymentCount {
  @PrimaryColumn({ type: "varchar", length: 40 })
  tenantEnvironmentId: string;

  @PrimaryColumn({ type: "varchar", length: 20 })
  source: DeploymentSource;

  @PrimaryColumn({ type: "varchar", length: 20 })
  status: DeploymentStatus;

  @Column({ type: "integer" })
  count: number;
}
