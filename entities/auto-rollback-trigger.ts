import { Column, Entity, PrimaryColumn } from "typeorm";

export enum TriggerOutcome {
  /** A server is deciding; a claim older than a minute in this state was interrupted and may be taken over. */
  CLAIMED = "CLAIMED",
  REQUESTED = "REQUESTED",
  SKIPPED = "SKIPPED",
}

/**
 * One row per failing deployment that a Degraded report has been acted on: the claim that makes
 * the automatic rollback happen once across replicas, and what came of it.
 */
@Entity("auto_rollback_trigger")
export class AutoRollbackTrigger {
  @PrimaryColumn({ type: "varchar", length: 40 })
  deploymentId: string;

  @Column({ type: "varchar", length: 40 })
  projectId: string;

  @Column({ type: "varchar", length: 40 })
  claimId: string;

  @Column()
  claimedAt: Date;

  @Column({ type: "varchar", length: 20 })
  outcome: TriggerOutcome;

  @Column({ type: "text", nullable: true })
  reason: string | null;

  @Column({ type: "simple-json" })
  requestIds: string[];
}
