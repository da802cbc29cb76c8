import { mkdir } from "node:fs/promises";
import path from "node:path";
import type { Logger } from "pino";
import { ApprovalService } from "./approvals/approval-service.js";
import { AutoRollbackService } from "./automation/auto-rollback.js";
import { FreezeService } from "./automation/freeze-windows.js";
import { SafetyGuards } from "./automation/guards.js";
import { HoldService } from "./automation/holds.js";
import type { Config } from "./config.js";
import { Database } from "./db/database.js";
import type { GitStore } from "./git/git-store.js";
import { NodegitStore } from "./git/nodegit-store.js";
import { GitCliRemoteSync } from "./git/remote-sync-cli.js";
import { DeployService } from "./history/deploy.js";
import { DeploymentQueries } from "./history/queries.js";
import { DeploymentRecorder } from "./history/recorder.js";
import { RevisionReader } from "./history/revisions.js";
import { Reindexer } from "./history/reindex.js";
import { traceDatabase, traceGitStore } from "./observability/instrument.js";
import { currentRequest } from "./observability/request-context.js";
import { DeliveryMetricsService } from "./insights/delivery-metrics.js";
import { consoleLinks } from "./notifications/console-links.js";
import { WebhookDispatcher } from "./notifications/dispatcher.js";
import { WebhookOutbox } from "./notifications/outbox.js";
import { PublicUrl } from "./notifications/public-url.js";
import { SecretBox } from "./notifications/secret-box.js";
import { WebhookService } from "./notifications/webhook-service.js";
import { RollbackExecutor } from "./rollback/executor.js";
import { RollbackPreparer } from "./rollback/preparation.js";
import { RollbackQueries } from "./rollback/queries.js";
import { ExecutionReconciler } from "./rollback/reconciler.js";
import { RollbackRequests } from "./rollback/requests.js";
import { AccessService } from "./services/access.js";
import { AuditTrail } from "./services/audit.js";
import { AuthService } from "./services/auth.js";
import { Catalog } from "./services/catalog.js";
import { createEventBus, Events } from "./services/events.js";
import { createRedisBus, type RedisBus } from "./services/redis-bus.js";
import { NodeFinder } from "./schema/node-finder.js";
import { SyncService } from "./sync/sync-service.js";

/** Every service of the server, wired once. Resolvers, the CLI and the seed all use these. */
export interface Services {
  config: Config;
  logger: Logger;
  db: Database;
  git: GitStore;
  events: Events;
  access: AccessService;
  auth: AuthService;
  audit: AuditTrail;
  catalog: Catalog;
  /** RELEASE and PROMOTION writes, imports. */
  deployments: DeployService;
  deploymentRecorder: DeploymentRecorder;
  deploymentQueries: DeploymentQueries;
  revisions: RevisionReader;
  reindexer: Reindexer;
  approvals: ApprovalService;
  /** The request state machine: request, review, retry, notes. */
  rollbacks: RollbackRequests;
  /** Previews and reads of rollback requests. */
  rollbackQueries: RollbackQueries;
  executor: RollbackExecutor;
  reconciler: ExecutionReconciler;
  sync: SyncService;
  nodes: NodeFinder;
  holds: HoldService;
  freezes: FreezeService;
  autoRollback: AutoRollbackService;
  publicUrl: PublicUrl;
  webhooks: WebhookService;
  webhookDispatcher: WebhookDispatcher;
  deliveryMetrics: DeliveryMetricsService;
}

export interface App extends Services {
  /** Extra readiness probes of the scale-out parts (Redis, the Git remote). */
  readinessChecks: { name: string; probe: () => Promise<unknown> }[];
  close(): Promise<void>;
}

export async function createApp(config: Config, logger: Logger): Promise<App> {
  await mkdir(config.dataDir, { recursive: true });
  const db = traceDatabase(
    await Database.open({
      url: config.databaseUrl,
      sqliteFile: path.join(config.dataDir, "rollback.sqlite"),
      schema: config.pgSchema ?? undefined,
    }),
  );
  let redis: RedisBus | null = null;
  try {
    redis = config.redisUrl ? await createRedisBus(config.redisUrl, logger) : null;
  } catch (err) {
    await db.close();
    throw err;
  }
  const events = new Events(redis ? createEventBus(redis.eventTarget) : createEventBus());
  const remote = config.gitRemote ? new GitCliRemoteSync(config.gitRemote, logger) : undefined;
  const git = traceGitStore(new NodegitStore({ root: path.join(config.dataDir, "repos"), remote }));
  const access = new AccessService(db);
  const audit = new AuditTrail(db, access);
  const auth = new AuthService(db, audit);
  const catalog = new Catalog(db);
  const approvals = new ApprovalService(db, access, audit, config.breakGlassMaxMinutes);
  // Safety automation: freeze windows and holds guard deploys and rollbacks; Degraded reports trigger rollbacks.
  const holds = new HoldService(db, access, audit, logger.child({ component: "holds" }));
  const freezes = new FreezeService(db, access, approvals, audit);
  const guards = new SafetyGuards(freezes, holds);
  const deploymentRecorder = new DeploymentRecorder(db, audit, events);
  const deploymentQueries = new DeploymentQueries(db, access, catalog);
  const deployments = new DeployService(db, git, access, catalog, deploymentRecorder, guards);
  const revisions = new RevisionReader(git, access, catalog, deploymentQueries);
  const reindexer = new Reindexer(db, git, catalog, auth, deploymentRecorder);
  const rollbackLogger = logger.child({ component: "rollback" });
  const preparer = new RollbackPreparer(git, access, catalog, deploymentQueries);
  const rollbackQueries = new RollbackQueries(db, access, approvals, preparer);
  const executor = new RollbackExecutor(db, git, catalog, deploymentQueries, deploymentRecorder, audit, events, rollbackQueries, {
    logger: rollbackLogger,
    pause: config.executionPause,
    guard: guards,
  });
  const reconciler = new ExecutionReconciler(db, git, catalog, deploymentQueries, events, rollbackQueries, executor, rollbackLogger);
  const rollbacks = new RollbackRequests(db, access, approvals, audit, events, preparer, rollbackQueries, executor, guards);
  const sync = new SyncService(db, git, access, catalog, deploymentQueries, deploymentRecorder, audit, events, config.agentUnreachableAfterSeconds);
  const autoRollback = new AutoRollbackService(db, access, rollbacks, audit, logger.child({ component: "auto-rollback" }));
  sync.onReport((report) => autoRollback.onSyncReport(report));
  const publicUrl = new PublicUrl(config);
  const secrets = new SecretBox(config.webhooks.secretKey, config.dataDir);
  const webhookDispatcher = new WebhookDispatcher(db, secrets, config.webhooks, logger.child({ component: "webhooks" }));
  const outbox = new WebhookOutbox({ logger, publicUrl: () => publicUrl.value, links: consoleLinks, onDeliveries: () => webhookDispatcher.wake(), request: currentRequest });
  events.useOutbox(outbox);
  db.addTransactionHook(outbox);
  const webhooks = new WebhookService(db, access, audit, secrets, webhookDispatcher, { publicUrl: () => publicUrl.value, logger, onCreated: () => outbox.webhookCreated() });
  const deliveryMetrics = new DeliveryMetricsService(db, access, catalog);
  if (db.dialect === "postgres" && !config.webhooks.secretKey) {
    logger.warn(`webhook secrets are encrypted with ${secrets.source}: replicas sharing this database must share one key, set WEBHOOK_SECRET_KEY`);
  }
  const nodes = new NodeFinder(db, access, deploymentQueries, rollbackQueries, approvals, holds, autoRollback, freezes, webhooks);

  const readinessChecks: App["readinessChecks"] = [];
  if (redis) readinessChecks.push({ name: "redis", probe: () => redis.ping() });
  if (remote) {
    readinessChecks.push({
      name: "git-remote",
      probe: async () => {
        for (const project of await catalog.projectSlugs()) await remote.ping(project);
      },
    });
  }

  return {
    readinessChecks,
    config,
    logger,
    db,
    git,
    events,
    access,
    auth,
    audit,
    catalog,
    deployments,
    deploymentRecorder,
    deploymentQueries,
    revisions,
    reindexer,
    approvals,
    rollbacks,
    rollbackQueries,
    executor,
    reconciler,
    sync,
    nodes,
    holds,
    freezes,
    autoRollback,
    publicUrl,
    webhooks,
    webhookDispatcher,
    deliveryMetrics,
    async close() {
      await webhookDispatcher.stop();
      await redis?.close();
      await db.close();
    },
  };
}
