import { ApprovalResolver } from "./approval.resolver.js";
import { AuditResolver } from "./audit.resolver.js";
import { ProjectAutomationResolver, RollbackRequestAutomationResolver, TenantEnvironmentAutomationResolver } from "./automation-links.resolver.js";
import { AutoRollbackPolicyResolver } from "./auto-rollback.resolver.js";
import { DeploymentResolver } from "./deployment.resolver.js";
import { FreezeWindowResolver } from "./freeze-window.resolver.js";
import { DeploymentHoldResolver } from "./hold.resolver.js";
import { NodeResolver } from "./node.resolver.js";
import { ProjectResolver, TenantResolver } from "./project.resolver.js";
import { RollbackResolver } from "./rollback.resolver.js";
import { SyncResolver } from "./sync.resolver.js";
import { TenantEnvironmentResolver } from "./tenant-environment.resolver.js";

export const RESOLVERS = [
  NodeResolver,
  ProjectResolver,
  TenantResolver,
  TenantEnvironmentResolver,
  DeploymentResolver,
  RollbackResolver,
  ApprovalResolver,
  AuditResolver,
  SyncResolver,
  ProjectAutomationResolver,
  TenantEnvironmentAutomationResolver,
  RollbackRequestAutomationResolver,
  AutoRollbackPolicyResolver,
  DeploymentHoldResolver,
  FreezeWindowResolver,
] as const;
