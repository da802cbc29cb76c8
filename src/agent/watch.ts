import { createClient, type Client } from "graphql-ws";
import WebSocket from "ws";

export interface DeploymentNotice {
  revision: string;
  status: string;
  source: string;
}

const DEPLOYMENTS = `subscription AgentDeployments($project: String!, $tenant: String, $environment: String) {
  deploymentRecorded(project: $project, tenant: $tenant, environment: $environment) { revision status source }
}`;

/** Close codes after which reconnecting cannot help: the server refused the token or the subscription. */
const FATAL_CLOSE_CODES = new Set([4401, 4403]);

/**
 * The agent's push channel: a graphql-ws subscription to deploymentRecorded of its project (and
 * tenant/environment, when given), so a rollback is pulled and applied within a moment instead
 * of at the next poll. It reconnects on its own (graphql-ws' randomised exponential backoff);
 * the interval polling goes on regardless, so a lost connection delays nothing beyond the interval.
 */
export function watchDeployments(options: {
  server: string;
  token: string;
  project: string;
  tenant: string | null;
  environment: string | null;
  onDeployment: (notice: DeploymentNotice) => void;
  onConnectionChange?: (connected: boolean, reason?: string) => void;
}): { dispose(): Promise<void> } {
  const client: Client = createClient({
    url: `${options.server.replace(/^http/, "ws")}/graphql`,
    webSocketImpl: WebSocket,
    connectionParams: { authorization: `Bearer ${options.token}` },
    lazy: false,
    keepAlive: 10_000,
    retryAttempts: Number.POSITIVE_INFINITY,
    shouldRetry: (event) => !(event && typeof event === "object" && "code" in event && FATAL_CLOSE_CODES.has((event as { code: number }).code)),
    onNonLazyError: () => undefined,
  });
  client.on("connected", () => options.onConnectionChange?.(true));
  client.on("closed", (event) => options.onConnectionChange?.(false, (event as { reason?: string })?.reason || undefined));
  const unsubscribe = client.subscribe<{ deploymentRecorded: DeploymentNotice }>(
    { query: DEPLOYMENTS, variables: { project: options.project, tenant: options.tenant, environment: options.environment } },
    {
      next: (value) => {
        if (value.data?.deploymentRecorded) options.onDeployment(value.data.deploymentRecorded);
      },
      error: (err) => options.onConnectionChange?.(false, err instanceof Error ? err.message : undefined),
      complete: () => undefined,
    },
  );
  return {
    async dispose() {
      unsubscribe();
      await client.dispose();
    },
  };
}
