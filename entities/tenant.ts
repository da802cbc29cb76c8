import { Field, ObjectType } from "type-graphql";
import { Column, Entity, Index, PrimaryColumn } from "typeorm";
import { Node } from "./node.js";

@ObjectType({ implements: Node, description: "A customer of the project with its own folder per environment." })
@Entity("tenant")
@Index(["projectId", "slug"], { unique: true })
export class Tenant extends Node {
  @PrimaryColumn({ type: "varchar", length: 40 })
  declare id: string;

  @Column({ type: "varchar", length: 40 })
  projectId: string;

  @Field({ description: "Short name of the tenant, unique in the project." })
  @Column({ type: "varchar", length: 100 })
  slug: string;
}
