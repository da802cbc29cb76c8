import { Field, ObjectType } from "type-graphql";
import { Column, Entity, Index, PrimaryColumn } from "typeorm";
import { SyncState } from "./enums.js";
import { Node } from "./node.js";
import { tenantDir } from "../src/git/layout.js";

export interface DriftRecord {
  kind: string;
  name: string;
  field?: string | null;
  desired?: unknown;
  actual?: unknown;
}

/** One tenant in one environment: the directory tenants/<tenant>/<environment>/ of the project's repository. */
@ObjectType({ implements: Node, description: "One tenant in one environment: the directory tenants/<tenant>/<environment>/ of the project's repository." })
@Entity("tenant_environment")
@Index(["projectId", "tenantSlug", "environment"], { unique: true })
export class TenantEnvironment extends Node {
  @PrimaryColumn({ type: "varchar", length: 40 })
  declare id: string;

  @Column({ type: "varchar", length: 40 })
  projectId: string;

  @Column({ type: "varchar", length: 40 })
  tenantId: string;

  @Column({ type: "varchar", length: 100 })
  tenantSlug: string;

  @Field(() => String, { name: "name", description: "Name of the environment (dev, staging, production, ...)." })
  @Column({ type: "varchar", length: 100 })
  environment: string;

  @Field(() => String, { nullable: true, description: "Full sha of the newest deployment of this tenant-environment." })
  @Column({ type: "varchar", length: 64, nullable: true })
  currentRevision: string | null;

  /** Sequence number of the newest deployment; the next one gets lastSeq + 1. */
  @Column({ type: "integer", default: 0 })
  lastSeq: number;

  // Latest sync report of the cluster agent.
  @Column({ type: "varchar", length: 64, nullable: true })
  syncRevision: string | null;

  @Column({ type: "varchar", length: 20, default: SyncState.UNKNOWN })
  syncState: SyncState;

  @Column({ type: "varchar", length: 100, nullable: true })
  syncHealth: string | null;

  @Column({ type: Date, nullable: true })
  lastReportAt: Date | null;

  @Column({ type: "simple-json", nullable: true })
  drift: DriftRecord[] | null;

  /** When the agent's silence was announced as UNREACHABLE (null again once it reports): one replica announces it, once. */
  @Column({ type: Date, nullable: true })
  unreachableAnnouncedAt: Date | null;

  @Field(() => String, { description: "The folder in the repository, tenants/<tenant>/<environment>." })
  get path(): string {
    return `${tenantDir(this.tenantSlug, this.environment)}/`;
  }
}
