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

registerEnumType(Plan, {
  name: "Plan",
  description: "An organization's plan: it decides which rollback modes the organization may use.",
  valuesConfig: {
    FREE: { description: "Full rollbacks only (when its feature flags allow them)." },
    PRO: { description: "Full and service rollbacks." },
    ENTERPRISE: { description: "Every rollback mode, field rollbacks included." },
  },
});
registerEnumType(Role, {
  name: "Role",
  description: "A user's role in a project; each role may do what the ones before it may.",
  valuesConfig: {
    VIEWER: { description: "Reads everything in the project." },
    DEPLOYER: { description: "Also deploys and requests rollbacks." },
    APPROVER: { description: "Also approves and rejects rollback requests." },
    ADMIN: { description: "Also sets policies, freeze windows and webhooks." },
  },
});
registerEnumType(RollbackMode, {
  name: "RollbackMode",
  description: "How much of a tenant-environment a rollback restores.",
  valuesConfig: {
    FULL: { description: "The whole tenant-environment folder, every service and environment file." },
    SERVICE: { description: "One service's folder." },
    FIELD: { description: "Chosen fields of one service's files." },
  },
});
registerEnumType(DeploymentSource, {
  name: "DeploymentSource",
  description: "How a deployment came about.",
  valuesConfig: {
    RELEASE: { description: "New field values for a service (deploy with set)." },
    PROMOTION: { description: "A service copied from another environment of the same tenant." },
    ROLLBACK: { description: "A completed rollback request." },
  },
});
registerEnumType(DeploymentStatus, {
  name: "DeploymentStatus",
  description: "What the cluster agents have reported about a deployment.",
  valuesConfig: {
    PENDING: { description: "No report of it running yet." },
    SUCCESS: { description: "The agent reported it synced and healthy." },
    FAILED: { description: "The agent reported it degraded or failing." },
    ROLLED_BACK: { description: "A later rollback undid it." },
  },
});
registerEnumType(RollbackRequestState, {
  name: "RollbackRequestState",
  description: "Where a rollback request is in its life.",
  valuesConfig: {
    PENDING: { description: "Waiting for approvals." },
    APPROVED: { description: "Approved and about to execute (or waiting for a freeze window to close)." },
    REJECTED: { description: "Rejected by a reviewer; nothing was written." },
    EXECUTING: { description: "The rollback commit is being written." },
    COMPLETED: { description: "Committed; commitSha and deployment are set." },
    FAILED: { description: "Execution failed (error and errorCode say why); retryRollbackExecution tries again." },
  },
});
registerEnumType(ReviewDecision, {
  name: "ReviewDecision",
  description: "A reviewer's decision on a rollback request.",
  valuesConfig: {
    APPROVE: { description: "Counts towards the approvals the request needs." },
    REJECT: { description: "Rejects the request at once." },
  },
});
registerEnumType(ChangeKind, {
  name: "ChangeKind",
  description: "How a field or file changed.",
  valuesConfig: {
    ADDED: { description: "It exists only after the change." },
    REMOVED: { description: "It exists only before the change." },
    MODIFIED: { description: "It exists on both sides with different content." },
  },
});
registerEnumType(SyncState, {
  name: "SyncState",
  description: "Whether a cluster runs what Git says.",
  valuesConfig: {
    UNKNOWN: { description: "No report yet." },
    PENDING: { description: "The cluster has not yet applied the newest deployment." },
    SYNCED: { description: "The cluster runs the reported revision as Git has it." },
    OUT_OF_SYNC: { description: "The cluster differs from Git (see drift)." },
  },
});
registerEnumType(AgentState, {
  name: "AgentState",
  description: "Whether a tenant-environment's cluster agent is reporting.",
  valuesConfig: {
    NEVER_SEEN: { description: "The agent has never reported." },
    CONNECTED: { description: "The agent reported recently." },
    UNREACHABLE: { description: "The agent's reports stopped (none within the server's unreachable timeout)." },
  },
});
registerEnumType(BlastRadius, {
  name: "BlastRadius",
  description: "How much of a tenant-environment a rollback can change.",
  valuesConfig: {
    HIGH: { description: "The whole tenant-environment (FULL)." },
    MEDIUM: { description: "One service (SERVICE)." },
    MINIMAL: { description: "Chosen fields of one service (FIELD)." },
  },
});
registerEnumType(RollbackTrigger, {
  name: "RollbackTrigger",
  description: "Who asked for a rollback.",
  valuesConfig: {
    MANUAL: { description: "A user, with requestRollback." },
    AUTOMATIC: { description: "The server, because an agent reported a fresh deployment Degraded." },
  },
});
registerEnumType(HoldReleaseKind, {
  name: "HoldReleaseKind",
  description: "How a deployment hold ended.",
  valuesConfig: {
    MANUAL: { description: "Released with releaseDeploymentHold." },
    DEPLOY_OVERRIDE: { description: "Overridden by a deploy with overrideHolds." },
    ROLLBACK: { description: "Ended by a rollback to a revision that holds the value." },
  },
});

const ROLE_RANK: Record<Role, number> = { VIEWER: 0, DEPLOYER: 1, APPROVER: 2, ADMIN: 3 };

export function roleAtLeast(role: Role, minimum: Role): boolean {
  return ROLE_RANK[role] >= ROLE_RANK[minimum];
}
