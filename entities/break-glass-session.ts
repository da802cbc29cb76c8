import { Field, ObjectType } from "type-graphql";
import { Column, Entity, Index, JoinColumn, ManyToOne, PrimaryColumn, type Relation } from "typeorm";
import { Node } from "./node.js";
import { User } from "./user.js";

@ObjectType({
  implements: Node,
  description: "A time-limited emergency session in a project: its owner's rollbacks skip approval, and everything done is flagged in the audit trail.",
})
@Entity("break_glass_session")
@Index(["projectId", "userId"])
export class BreakGlassSession extends Node {
  @PrimaryColumn({ type: "varchar", length: 40 })
  declare id: string;

  @Column({ type: "varchar", length: 40 })
  projectId: string;

  @Column({ type: "varchar", length: 40 })
  userId: string;

  @Field(() => User, { description: "Who opened the session." })
  @ManyToOne(() => User, { createForeignKeyConstraints: false })
  @JoinColumn({ name: "userId" })
  user: Relation<User>;

  @Field({ description: "Why the session was opened, as entered." })
  @Column({ type: "text" })
  justification: string;

  @Field({ description: "When the session was opened." })
  @Column()
  openedAt: Date;

  @Field({ description: "When the session ends by itself." })
  @Column()
  expiresAt: Date;

  @Field(() => Date, { nullable: true, description: "When the session was closed by hand; null while open or when it simply expired." })
  @Column({ type: Date, nullable: true })
  closedAt: Date | null;
}
