import { registerEnumType } from "type-graphql";

export enum Plan {
  FREE = "FREE",
  PRO = "PRO",
  ENTERPRISE = "ENTERPRISE",
}

/** Ordered from least to most privileged: each role can do what the ones before it can. */
export enum Role {
  VIEWER = "VIEWER",
  DEPLOYER = "DEPLOYER",
  APPROVER = "APPROVER",
  ADMIN = "ADMIN",
}

export enum RollbackMode {
  FULL = "FULL",
  SERVICE = "SERVICE",
  FIELD = "FIELD",
}

export enum DeploymentSource {
  RELEASE = "RELEASE",
  PROMOTION = "PROMOTION",
  ROLLBACK = "ROLLBACK",
}

export enum DeploymentStatus {
  PENDING = "PENDING",
  SUCCESS = "SUCCESS",
  FAILED = "FAILED",
  ROLLED_BACK = "ROLLED_BACK",
}

export enum RollbackRequestState {
  PENDING = "PENDING",
  APPROVED = "APPROVED",
  REJECTED = "REJECTED",
  EXECUTING = "EXECUTING",
  COMPLETED = "COMPLETED",
  FAILED = "FAILED",
}

export enum ReviewDecision {
  APPROVE = "APPROVE",
  REJECT = "REJECT",
}

export enum ChangeKind {
  ADDED = "ADDED",
  REMOVED = "REMOVED",
  MODIFIED = "MODIFIED",
}

export enum SyncState {
  UNKNOWN = "UNKNOWN",
  PENDING = "PENDING",
  SYNCED = "SYNCED",
  OUT_OF_SYNC = "OUT_OF_SYNC",
}

export enum AgentState {
  NEVER_SEEN = "NEVER_SEEN",
  CONNECTED = "CONNECTED",
  UNREACHABLE = "UNREACHABLE",
}

export enum BlastRadius {
  HIGH = "HIGH",
  MEDIUM = "MEDIUM",
  MINIMAL = "MINIMAL",
}

/** Who asked for a rollback: a person, or the server reacting to a Degraded report. */
export enum RollbackTrigger {
  MANUAL = "MANUAL",
  AUTOMATIC = "AUTOMATIC",
}

/** How a deployment hold ended. */
export enum HoldReleaseKind {
  /** releaseDeploymentHold, with a justification. */
  MANUAL = "MANUAL",
  /** A deploy with overrideHolds wrote the held value back. */
  DEPLOY_OVERRIDE = "DEPLOY_OVERRIDE",
  /** A later rollback went to a revision holding that value. */
  ROLLBACK = "ROLLBACK",
}

export enum TokenKind {
  USER = "USER",
  AGENT = "AGENT",
}

registerEnumType(Plan, { name: "Plan" });
registerEnumType(Role, { name: "Role" });
registerEnumType(RollbackMode, { name: "RollbackMode" });
registerEnumType(DeploymentSource, { name: "DeploymentSource" });
registerEnumType(DeploymentStatus, { name: "DeploymentStatus" });
registerEnumType(RollbackRequestState, { name: "RollbackRequestState" });
registerEnumType(ReviewDecision, { name: "ReviewDecision" });
registerEnumType(ChangeKind, { name: "ChangeKind" });
registerEnumType(SyncState, { name: "SyncState" });
registerEnumType(AgentState, { name: "AgentState" });
registerEnumType(BlastRadius, { name: "BlastRadius" });
registerEnumType(RollbackTrigger, { name: "RollbackTrigger" });
registerEnumType(HoldReleaseKind, { name: "HoldReleaseKind" });

const ROLE_RANK: Record<Role, number> = { VIEWER: 0, DEPLOYER: 1, APPROVER: 2, ADMIN: 3 };

export function roleAtLeast(role: Role, minimum: Role): boolean {
  return ROLE_RANK[role] >= ROLE_RANK[minimum];
}
