import { Field, ObjectType } from "type-graphql";
import { Column, CreateDateColumn, Entity, Index, PrimaryColumn } from "typeorm";
import { Node } from "./node.js";

@ObjectType({ implements: Node, description: "A person who signs in with a personal API token." })
@Entity("user")
export class User extends Node {
  @PrimaryColumn({ type: "varchar", length: 40 })
  declare id: string;

  @Field({ description: "The user's email address." })
  @Index({ unique: true })
  @Column({ type: "varchar", length: 320 })
  email: string;

  @Field(() => String, { nullable: true, description: "Display name, if set." })
  @Column({ type: "varchar", length: 200, nullable: true })
  name: string | null;

  /** The organization the user belongs to; null for users created before they joined one. */
  @Column({ type: "varchar", length: 40, nullable: true })
  organizationId: string | null;

  @CreateDateColumn()
  createdAt: Date;
}
