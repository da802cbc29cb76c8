import { Field, ID, Int, ObjectType } from "type-graphql";
import { Column, Entity, Index, PrimaryColumn } from "typeorm";
import { sha256 } from "../src/lib/ids.js";

@ObjectType({ description: "How many approvals a rollback in one environment of a project needs before it runs." })
@Entity("approval_policy")
@Index(["projectId", "environment"], { unique: true })
export class ApprovalPolicy {
  @PrimaryColumn({ type: "varchar", length: 40 })
  id: string;

  @Column({ type: "varchar", length: 40 })
  projectId: string;

  @Field({ description: "The environment the policy applies to (dev, staging, production, ...)." })
  @Column({ type: "varchar", length: 100 })
  environment: string;

  /** Derived from the project and environment, not the row: the default shown before a policy is first set has the same id as the row that later stores it. */
  @Field(() => ID, { name: "id", description: "Stable per project and environment, so a client cache merges a changed policy into every place it shows." })
  get cacheId(): string {
    return `pol_${sha256(`${this.projectId}\0${this.environment}`).slice(0, 24)}`;
  }

  @Field(() => Int, { description: "Approvals a rollback request needs before it executes; 0 means it executes at once." })
  @Column({ type: "integer" })
  requiredApprovals: number;

  @Field({ description: "Whether the requester may approve their own rollback request." })
  @Column({ type: "boolean" })
  allowSelfApproval: boolean;
}
