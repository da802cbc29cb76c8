import { ApiToken } from "./api-token.js";
import { ApprovalPolicy } from "./approval-policy.js";
import { AuditChainHead, AuditEvent } from "./audit-event.js";
import { AutoRollbackPolicy } from "./auto-rollback-policy.js";
import { AutoRollbackTrigger } from "./auto-rollback-trigger.js";
import { BreakGlassSession } from "./break-glass-session.js";
import { Deployment, DeploymentCount } from "./deployment.js";
import { DeploymentHold } from "./deployment-hold.js";
import { FreezeWindow } from "./freeze-window.js";
import { Membership } from "./membership.js";
import { Organization } from "./organization.js";
import { Project } from "./project.js";
import { Review, RollbackNote, RollbackRequest } from "./rollback-request.js";
import { Tenant } from "./tenant.js";
import { TenantEnvironment } from "./tenant-environment.js";
import { User } from "./user.js";

export {
  ApiToken,
  ApprovalPolicy,
  AuditChainHead,
  AuditEvent,
  AutoRollbackPolicy,
  AutoRollbackTrigger,
  BreakGlassSession,
  Deployment,
  DeploymentCount,
  DeploymentHold,
  FreezeWindow,
  Membership,
  Organization,
  Project,
  Review,
  RollbackNote,
  RollbackRequest,
  Tenant,
  TenantEnvironment,
  User,
};

export const ALL_ENTITIES = [
  ApiToken,
  ApprovalPolicy,
  AuditChainHead,
  AuditEvent,
  AutoRollbackPolicy,
  AutoRollbackTrigger,
  BreakGlassSession,
  Deployment,
  DeploymentCount,
  DeploymentHold,
  FreezeWindow,
  Membership,
  Organization,
  Project,
  Review,
  RollbackNote,
  RollbackRequest,
  Tenant,
  TenantEnvironment,
  User,
];
