import { Field, Int, ObjectType } from "type-graphql";
import { Column, Entity, Index, PrimaryColumn } from "typeorm";
import { RollbackMode } from "./enums.js";
import { Node } from "./node.js";

/** Per environment of a project: roll back automatically when a fresh deployment turns Degraded. */
@ObjectType({ implements: Node, description: "Per environment of a project: roll back automatically when a fresh deployment turns Degraded." })
@Entity("auto_rollback_policy")
@Index(["projectId", "environment"], { unique: true })
export class AutoRollbackPolicy extends Node {
  /** Names the project and environment (arp_<project>.<environment>), so a policy never saved has the same id as a saved one. */
  @PrimaryColumn({ type: "varchar", length: 120 })
  declare id: string;

  @Column({ type: "varchar", length: 40 })
  projectId: string;

  @Field({ description: "The environment the policy applies to." })
  @Column({ type: "varchar", length: 100 })
  environment: string;

  @Field({ description: "Whether a Degraded report triggers an automatic rollback." })
  @Column({ type: "boolean" })
  enabled: boolean;

  @Field(() => Int, { description: "A Degraded report for a deployment younger than this many minutes triggers the rollback." })
  @Column({ type: "integer" })
  windowMinutes: number;

  @Field(() => RollbackMode, { description: "SERVICE rolls back only the services the failing deployment changed; FULL the whole tenant-environment." })
  @Column({ type: "varchar", length: 10 })
  mode: RollbackMode;

  @Field({
    description: "True: the automatic request skips the approval policy (flagged in the audit trail). False: it waits for approval like any other.",
  })
  @Column({ type: "boolean" })
  bypassApproval: boolean;
}
