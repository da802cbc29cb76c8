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

  @Field({ description: "The environment the window freezes." })
  @Column({ type: "varchar", length: 100 })
  environment: string;

  @Field({ description: "When the window opens." })
  @Column()
  startsAt: Date;

  @Field({ description: "When the window closes." })
  @Column()
  endsAt: Date;

  @Field({ description: "Why deployments are frozen, as entered." })
  @Column({ type: "varchar", length: 500 })
  reason: string;

  @Field({ description: "Whether rollbacks may still go through while the window is open." })
  @Column({ type: "boolean" })
  allowRollbacks: boolean;

  @Column({ type: "varchar", length: 40 })
  createdById: string;

  @Field(() => User, { description: "Who created the window." })
  @ManyToOne(() => User, { createForeignKeyConstraints: false })
  @JoinColumn({ name: "createdById" })
  createdBy: Relation<User>;

  @Field({ description: "When the window was created." })
  @Column()
  createdAt: Date;

  /** Deleted windows stay for the record (and the audit trail names them) but no longer freeze anything. */
  @Column({ type: Date, nullable: true })
  deletedAt: Date | null;
}
