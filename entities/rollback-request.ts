import { Field, ID, Int, ObjectType } from "type-graphql";
import { Column, CreateDateColumn, Entity, Index, JoinColumn, ManyToOne, OneToMany, PrimaryColumn, UpdateDateColumn, type Relation } from "typeorm";
import { ReviewDecision, RollbackMode, RollbackRequestState, RollbackTrigger } from "./enums.js";
import { Node } from "./node.js";
import { User } from "./user.js";

@ObjectType()
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

  @Field(() => User)
  @ManyToOne(() => User, { createForeignKeyConstraints: false })
  @JoinColumn({ name: "reviewerId" })
  reviewer: Relation<User>;

  @Field(() => ReviewDecision)
  @Column({ type: "varchar", length: 10 })
  decision: ReviewDecision;

  @Field(() => String, { nullable: true })
  @Column({ type: "text", nullable: true })
  comment: string | null;

  @Field()
  @Column()
  createdAt: Date;
}

@ObjectType()
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

  @Field(() => User)
  @ManyToOne(() => User, { createForeignKeyConstraints: false })
  @JoinColumn({ name: "authorId" })
  author: Relation<User>;

  @Field()
  @Column({ type: "text" })
  text: string;

  @Field()
  @Column()
  createdAt: Date;
}

@ObjectType({ implements: Node })
@Entity("rollback_request")
@Index(["requestedById", "idempotencyKey"], { unique: true })
@Index(["projectId", "createdAt"])
@Index(["state"])
export class RollbackRequest extends Node {
  @Field(() => ID, { description: "rbk-... identifier, also written into the rollback commit." })
  @PrimaryColumn({ type: "varchar", length: 40 })
  declare id: string;

  @Field(() => RollbackRequestState)
  @Column({ type: "varchar", length: 20 })
  state: RollbackRequestState;

  @Field(() => RollbackMode)
  @Column({ type: "varchar", length: 10 })
  mode: RollbackMode;

  @Column({ type: "varchar", length: 40 })
  projectId: string;

  @Field(() => String, { name: "project" })
  @Column({ type: "varchar", length: 100 })
  projectSlug: string;

  @Index()
  @Column({ type: "varchar", length: 40 })
  tenantEnvironmentId: string;

  @Field()
  @Column({ type: "varchar", length: 100 })
  tenant: string;

  @Field()
  @Column({ type: "varchar", length: 100 })
  environment: string;

  @Field()
  @Column({ type: "varchar", length: 64 })
  targetSha: string;

  @Field()
  @Column({ type: "varchar", length: 64 })
  baseSha: string;

  @Field(() => String, { nullable: true })
  @Column({ type: "varchar", length: 100, nullable: true })
  service: string | null;

  @Field(() => [String])
  @Column({ type: "simple-json" })
  selectedFields: string[];

  @Field(() => [String])
  @Column({ type: "simple-json" })
  affectedServices: string[];

  @Field()
  @Column({ type: "text" })
  justification: string;

  @Column({ type: "varchar", length: 40 })
  requestedById: string;

  @Field(() => User)
  @ManyToOne(() => User, { createForeignKeyConstraints: false })
  @JoinColumn({ name: "requestedById" })
  requestedBy: Relation<User>;

  @Field()
  @CreateDateColumn()
  createdAt: Date;

  @Field()
  @UpdateDateColumn()
  updatedAt: Date;

  @Field(() => [Review])
  @OneToMany(() => Review, (review) => review.request)
  reviews: Relation<Review>[];

  @Field(() => Int)
  @Column({ type: "integer", default: 0 })
  approvals: number;

  @Field(() => Int)
  @Column({ type: "integer" })
  requiredApprovals: number;

  @Field()
  @Column({ type: "boolean", default: false })
  breakGlass: boolean;

  @Column({ type: "varchar", length: 40, nullable: true })
  breakGlassSessionId: string | null;

  @Field(() => String, { nullable: true, description: "The rollback commit, once COMPLETED." })
  @Column({ type: "varchar", length: 64, nullable: true })
  commitSha: string | null;

  @Field(() => String, { nullable: true })
  @Column({ type: "text", nullable: true })
  commitMessage: string | null;

  @Field(() => String, { nullable: true, description: "Why execution failed, when FAILED." })
  @Column({ type: "text", nullable: true })
  error: string | null;

  /** The spec's error code of the failure (CONFLICT, EXECUTION_FAILED), when FAILED. */
  @Field(() => String, { nullable: true, description: "Error code of the failure (CONFLICT or EXECUTION_FAILED), when FAILED." })
  @Column({ type: "varchar", length: 40, nullable: true })
  errorCode: string | null;

  @Field(() => [RollbackNote])
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
