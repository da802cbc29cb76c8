import { Field, ID, Int, ObjectType } from "type-graphql";
import { Column, CreateDateColumn, Entity, Index, JoinColumn, ManyToOne, OneToMany, PrimaryColumn, UpdateDateColumn, type Relation } from "typeorm";
import { ReviewDecision, RollbackMode, RollbackRequestState, RollbackTrigger } from "./enums.js";
import { Node } from "./node.js";
import { User } from "./user.js";

@ObjectType({ description: "An approval or rejection of a rollback request." })
@Entity("review")
@Index(["requestId", "reviewerId"], { unique: true })
export class Review {
  @Field(() => ID, { description: "Stable id of the review (rev_...), for client caches." })
  @PrimaryColumn({ type: "varchar", length: 40 })
  id: string;

  @Column({ type: "varchar", length: 40 })
  requestId: string;

  @ManyToOne(() => RollbackRequest, (request) => request.reviews, { createForeignKeyConstraints: false })
  @JoinColumn({ name: "requestId" })
  request?: Relation<RollbackRequest>;

  @Column({ type: "varchar", length: 40 })
  reviewerId: string;

  @Field(() => User, { description: "Who reviewed." })
  @ManyToOne(() => User, { createForeignKeyConstraints: false })
  @JoinColumn({ name: "reviewerId" })
  reviewer: Relation<User>;

  @Field(() => ReviewDecision, { description: "APPROVE or REJECT." })
  @Column({ type: "varchar", length: 10 })
  decision: ReviewDecision;

  @Field(() => String, { nullable: true, description: "The reviewer's comment, if any." })
  @Column({ type: "text", nullable: true })
  comment: string | null;

  @Field({ description: "When the review was given." })
  @Column()
  createdAt: Date;
}

@ObjectType({ description: "A free-text note added to a rollback request." })
@Entity("rollback_note")
export class RollbackNote {
  @Field(() => ID, { description: "Stable id of the note (note_...), for client caches." })
  @PrimaryColumn({ type: "varchar", length: 40 })
  id: string;

  @Index()
  @Column({ type: "varchar", length: 40 })
  requestId: string;

  @ManyToOne(() => RollbackRequest, (request) => request.notes, { createForeignKeyConstraints: false })
  @JoinColumn({ name: "requestId" })
  request?: Relation<RollbackRequest>;

  @Column({ type: "varchar", length: 40 })
  authorId: string;

  @Field(() => User, { description: "Who wrote the note." })
  @ManyToOne(() => User, { createForeignKeyConstraints: false })
  @JoinColumn({ name: "authorId" })
  author: Relation<User>;

  @Field({ description: "The note as written." })
  @Column({ type: "text" })
  text: string;

  @Field({ description: "When the note was added." })
  @Column()
  createdAt: Date;
}

@ObjectType({ implements: Node, description: "A request to roll a tenant-environment (or one service or some fields) back to an earlier revision, with its reviews and outcome." })
@Entity("rollback_request")
@Index(["requestedById", "idempotencyKey"], { unique: true })
@Index(["projectId", "createdAt"])
@Index(["state"])
export class RollbackRequest extends Node {
  @Field(() => ID, { description: "The rbk-... identifier, also written into the rollback commit." })
  @PrimaryColumn({ type: "varchar", length: 40 })
  declare id: string;

  @Field(() => RollbackRequestState, { description: "Where the request is: PENDING approval, APPROVED, REJECTED, EXECUTING, COMPLETED or FAILED." })
  @Column({ type: "varchar", length: 20 })
  state: RollbackRequestState;

  @Field(() => RollbackMode, { description: "FULL, SERVICE or FIELD: how much of the tenant-environment it rolls back." })
  @Column({ type: "varchar", length: 10 })
  mode: RollbackMode;

  @Column({ type: "varchar", length: 40 })
  projectId: string;

  @Field(() => String, { name: "project", description: "Slug of the project." })
  @Column({ type: "varchar", length: 100 })
  projectSlug: string;

  @Index()
  @Column({ type: "varchar", length: 40 })
  tenantEnvironmentId: string;

  @Field({ description: "Slug of the tenant." })
  @Column({ type: "varchar", length: 100 })
  tenant: string;

  @Field({ description: "Name of the environment." })
  @Column({ type: "varchar", length: 100 })
  environment: string;

  @Field({ description: "Full sha of the revision rolled back to." })
  @Column({ type: "varchar", length: 64 })
  targetSha: string;

  @Field({ description: "Full sha of the revision the request was made against." })
  @Column({ type: "varchar", length: 64 })
  baseSha: string;

  @Field(() => String, { nullable: true, description: "The service rolled back, for SERVICE and FIELD mode." })
  @Column({ type: "varchar", length: 100, nullable: true })
  service: string | null;

  @Field(() => [String], { description: "The field selectors rolled back, for FIELD mode ('[file:]dotted.path')." })
  @Column({ type: "simple-json" })
  selectedFields: string[];

  @Field(() => [String], { description: "Services the rollback changes." })
  @Column({ type: "simple-json" })
  affectedServices: string[];

  @Field({ description: "Why the rollback was requested, as entered." })
  @Column({ type: "text" })
  justification: string;

  @Column({ type: "varchar", length: 40 })
  requestedById: string;

  @Field(() => User, { description: "Who requested the rollback (the server's own user for automatic ones)." })
  @ManyToOne(() => User, { createForeignKeyConstraints: false })
  @JoinColumn({ name: "requestedById" })
  requestedBy: Relation<User>;

  @Field({ description: "When the request was made." })
  @CreateDateColumn()
  createdAt: Date;

  @Field({ description: "When the request last changed." })
  @UpdateDateColumn()
  updatedAt: Date;

  @Field(() => [Review], { description: "Approvals and rejections, oldest first." })
  @OneToMany(() => Review, (review) => review.request)
  reviews: Relation<Review>[];

  @Field(() => Int, { description: "How many approvals the request has." })
  @Column({ type: "integer", default: 0 })
  approvals: number;

  @Field(() => Int, { description: "How many approvals it needs, from the environment's policy when it was made." })
  @Column({ type: "integer" })
  requiredApprovals: number;

  @Field({ description: "True when a break-glass session bypassed approval." })
  @Column({ type: "boolean", default: false })
  breakGlass: boolean;

  @Column({ type: "varchar", length: 40, nullable: true })
  breakGlassSessionId: string | null;

  @Field(() => String, { nullable: true, description: "The rollback commit, once COMPLETED." })
  @Column({ type: "varchar", length: 64, nullable: true })
  commitSha: string | null;

  @Field(() => String, { nullable: true, description: "Message of the rollback commit, once COMPLETED." })
  @Column({ type: "text", nullable: true })
  commitMessage: string | null;

  @Field(() => String, { nullable: true, description: "Why execution failed, when FAILED." })
  @Column({ type: "text", nullable: true })
  error: string | null;

  /** The spec's error code of the failure (CONFLICT, EXECUTION_FAILED), when FAILED. */
  @Field(() => String, { nullable: true, description: "Error code of the failure (CONFLICT or EXECUTION_FAILED), when FAILED." })
  @Column({ type: "varchar", length: 40, nullable: true })
  errorCode: string | null;

  @Field(() => [RollbackNote], { description: "Notes added to the request, oldest first." })
  @OneToMany(() => RollbackNote, (note) => note.request)
  notes: Relation<RollbackNote>[];

  @Column({ type: "varchar", length: 200, nullable: true })
  idempotencyKey: string | null;

  /** Hash of the normalized input, to tell a retried call from a different one under the same key. */
  @Column({ type: "varchar", length: 64 })
  inputFingerprint: string;

  @Field(() => Int, { description: "How many times execution has been attempted." })
  @Column({ type: "integer", default: 0 })
  executionAttempts: number;

  /** When the current (or last) execution started; crash recovery looks at EXECUTING requests. */
  @Column({ type: Date, nullable: true })
  executionStartedAt: Date | null;

  /** The server process that claimed the execution. */
  @Column({ type: "varchar", length: 64, nullable: true })
  executorId: string | null;

  @Field(() => RollbackTrigger, { description: "AUTOMATIC when the server requested it because an agent reported the deployment Degraded." })
  @Column({ type: "varchar", length: 10, default: RollbackTrigger.MANUAL })
  trigger: RollbackTrigger;

  /** The deployment whose Degraded report triggered an automatic rollback. */
  @Index()
  @Column({ type: "varchar", length: 40, nullable: true })
  triggeredByDeploymentId: string | null;
}
