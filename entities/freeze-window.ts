import { Field, ObjectType } from "type-graphql";
import { Column, Entity, Index, JoinColumn, ManyToOne, PrimaryColumn, type Relation } from "typeorm";
import { Node } from "./node.js";
import { User } from "./user.js";

/** While open, deployments to the environment are refused; rollbacks go through when allowRollbacks is true; a break-glass session overrides either. */
@ObjectType({
  implements: Node,
  description: "While open, deployments to the environment are refused; rollbacks go through when allowRollbacks is true; a break-glass session overrides either.",
})
@Entity("freeze_window")
@Index(["projectId", "environment", "endsAt"])
export class FreezeWindow extends Node {
  @PrimaryColumn({ type: "varchar", length: 40 })
  declare id: string;

  @Column({ type: "varchar", length: 40 })
  projectId: string;

  @Field()
  @Column({ type: "varchar", length: 100 })
  environment: string;

  @Field()
  @Column()
  startsAt: Date;

  @Field()
  @Column()
  endsAt: Date;

  @Field()
  @Column({ type: "varchar", length: 500 })
  reason: string;

  @Field()
  @Column({ type: "boolean" })
  allowRollbacks: boolean;

  @Column({ type: "varchar", length: 40 })
  createdById: string;

  @Field(() => User)
  @ManyToOne(() => User, { createForeignKeyConstraints: false })
  @JoinColumn({ name: "createdById" })
  createdBy: Relation<User>;

  @Field()
  @Column()
  createdAt: Date;

  /** Deleted windows stay for the record (and the audit trail names them) but no longer freeze anything. */
  @Column({ type: Date, nullable: true })
  deletedAt: Date | null;
}
