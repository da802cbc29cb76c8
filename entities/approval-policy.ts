import { Field, Int, ObjectType } from "type-graphql";
import { Column, Entity, Index, PrimaryColumn } from "typeorm";

@ObjectType()
@Entity("approval_policy")
@Index(["projectId", "environment"], { unique: true })
export class ApprovalPolicy {
  @PrimaryColumn({ type: "varchar", length: 40 })
  id: string;

  @Column({ type: "varchar", length: 40 })
  projectId: string;

  @Field()
  @Column({ type: "varchar", length: 100 })
  environment: string;

  @Field(() => Int)
  @Column({ type: "integer" })
  requiredApprovals: number;

  @Field()
  @Column({ type: "boolean" })
  allowSelfApproval: boolean;
}
