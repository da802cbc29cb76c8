import { Field, ObjectType } from "type-graphql";
import { Column, Entity, Index, PrimaryColumn } from "typeorm";
import { Node } from "./node.js";

@ObjectType({ implements: Node })
@Entity("tenant")
@Index(["projectId", "slug"], { unique: true })
export class Tenant extends Node {
  @PrimaryColumn({ type: "varchar", length: 40 })
  declare id: string;

  @Column({ type: "varchar", length: 40 })
  projectId: string;

  @Field()
  @Column({ type: "varchar", length: 100 })
  slug: string;
}
