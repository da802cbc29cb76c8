import { Field, ObjectType } from "type-graphql";
import { Column, Entity, Index, JoinColumn, ManyToOne, PrimaryColumn, type Relation } from "typeorm";
import { Node } from "./node.js";
import { User } from "./user.js";

@ObjectType({ implements: Node })
@Entity("break_glass_session")
@Index(["projectId", "userId"])
export class BreakGlassSession extends Node {
  @PrimaryColumn({ type: "varchar", length: 40 })
  declare id: string;

  @Column({ type: "varchar", length: 40 })
  projectId: string;

  @Column({ type: "varchar", length: 40 })
  userId: string;

  @Field(() => User)
  @ManyToOne(() => User, { createForeignKeyConstraints: false })
  @JoinColumn({ name: "userId" })
  user: Relation<User>;

  @Field()
  @Column({ type: "text" })
  justification: string;

  @Field()
  @Column()
  openedAt: Date;

  @Field()
  @Column()
  expiresAt: Date;

  @Field(() => Date, { nullable: true })
  @Column({ type: Date, nullable: true })
  closedAt: Date | null;
}
