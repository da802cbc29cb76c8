import { Field, ObjectType } from "type-graphql";
import { Column, CreateDateColumn, Entity, Index, PrimaryColumn } from "typeorm";
import { Node } from "./node.js";

@ObjectType({ implements: Node, description: "A GitOps repository with its tenants, environments, policies and audit trail." })
@Entity("project")
export class Project extends Node {
  @PrimaryColumn({ type: "varchar", length: 40 })
  declare id: string;

  /** Unique across organizations: it names the project's repository. */
  @Field({ description: "Short unique name of the project, used in every argument called project." })
  @Column({ type: "varchar", length: 100, unique: true })
  slug: string;

  @Index()
  @Column({ type: "varchar", length: 40 })
  organizationId: string;

  @Field(() => [String], { description: "Environment names of this project, e.g. dev, staging, production." })
  @Column({ type: "simple-json" })
  environments: string[];

  @CreateDateColumn()
  createdAt: Date;
}
