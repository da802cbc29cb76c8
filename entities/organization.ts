import { Field, ObjectType } from "type-graphql";
import { Column, CreateDateColumn, Entity, PrimaryColumn } from "typeorm";
import { Plan } from "./enums.js";
import { Node } from "./node.js";

/** The feature flags an organization's plan comes with (its `features`). */
export const Feature = {
  BASIC_ROLLBACK: "basic_rollback",
  ROLLBACK: "rollback",
  SELECTIVE_ROLLBACK: "selective_rollback",
  ROLLBACK_APPROVAL: "rollback_approval",
} as const;

@ObjectType({ implements: Node, description: "The customer account that owns projects; its plan and feature flags decide which rollback modes are allowed." })
@Entity("organization")
export class Organization extends Node {
  @PrimaryColumn({ type: "varchar", length: 40 })
  declare id: string;

  @Field({ description: "Short unique name of the organization." })
  @Column({ type: "varchar", length: 100, unique: true })
  slug: string;

  @Field(() => Plan, { description: "The organization's plan (FREE, PRO, ENTERPRISE)." })
  @Column({ type: "varchar", length: 20 })
  plan: Plan;

  @Field(() => [String], { description: "Enabled feature flags, e.g. basic_rollback, rollback, selective_rollback, rollback_approval." })
  @Column({ type: "simple-json" })
  features: string[];

  @CreateDateColumn()
  createdAt: Date;
}
