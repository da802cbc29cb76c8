import { Field, ObjectType } from "type-graphql";
import { Column, Entity, Index, JoinColumn, ManyToOne, PrimaryColumn, type Relation } from "typeorm";
import { Node } from "./node.js";
import { JSONScalar } from "./scalars.js";
import { User } from "./user.js";

/** Append-only; each event's hash covers its content and the previous event's hash in the project. */
@ObjectType({ implements: Node, description: "One entry of a project's append-only audit trail, hash-chained to the entry before it." })
@Entity("audit_event")
@Index(["projectId", "seq"], { unique: true })
export class AuditEvent extends Node {
  @PrimaryColumn({ type: "varchar", length: 40 })
  declare id: string;

  @Column({ type: "varchar", length: 40 })
  projectId: string;

  /** Position in the project's chain, 1 for the first event. */
  @Column({ type: "integer" })
  seq: number;

  @Field({ description: "When the action happened." })
  @Column()
  at: Date;

  @Column({ type: "varchar", length: 40, nullable: true })
  actorId: string | null;

  @Field(() => User, { nullable: true, description: "The user who acted; null for the server itself and for cluster agents." })
  @ManyToOne(() => User, { createForeignKeyConstraints: false })
  @JoinColumn({ name: "actorId" })
  actor: Relation<User> | null;

  @Field({ description: "Dotted action name, e.g. rollback.requested, rollback.reviewed, rollback.executed, breakglass.opened." })
  @Column({ type: "varchar", length: 100 })
  action: string;

  @Field({ description: "True when the action was taken under a break-glass session." })
  @Column({ type: "boolean", default: false })
  breakGlass: boolean;

  @Field(() => String, { nullable: true, description: "Id of what the action was about (a rollback request, a session, an environment, ...), when there is one." })
  @Column({ type: "varchar", length: 100, nullable: true })
  subjectId: string | null;

  @Field(() => JSONScalar, { description: "Action-specific details as a JSON object (the input, before and after values, ...)." })
  @Column({ type: "simple-json" })
  details: Record<string, unknown>;

  @Column({ type: "varchar", length: 64 })
  prevHash: string;

  @Field({ description: "Hash chaining this event to the previous one of the project." })
  @Column({ type: "varchar", length: 64 })
  hash: string;
}

/** The newest link of each project's chain; locked while an event is appended so the chain never forks. */
@Entity("audit_chain_head")
export class AuditChainHead {
  @PrimaryColumn({ type: "varchar", length: 40 })
  projectId: string;

  @Column({ type: "integer" })
  seq: number;

  @Column({ type: "varchar", length: 64 })
  hash: string;
}
