import { ApprovalResolver } from "./approval.resolver.js";
import { AuditResolver } from "./audit.resolver.js";
import { DeploymentResolver } from "./deployment.resolver.js";
import { InsightsResolver } from "./insights.resolver.js";
import { NodeResolver } from "./node.resolver.js";
import { ProjectResolver, TenantResolver } from "./project.resolver.js";
import { RollbackResolver } from "./rollback.resolver.js";
import { SyncResolver } from "./sync.resolver.js";
import { TenantEnvironmentResolver } from "./tenant-environment.resolver.js";
import { ProjectWebhooksResolver, WebhookResolver } from "./webhook.resolver.js";

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
  WebhookResolver,
  ProjectWebhooksResolver,
  InsightsResolver,
] as const;
