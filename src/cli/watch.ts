import { createClient, type Client } from "graphql-ws";
import WebSocket from "ws";
import { UsageError } from "./args.js";

export const WATCH_OPTIONS = {
  server: { type: "string" },
  token: { type: "string" },
  project: { type: "string" },
  tenant: { type: "string" },
  environment: { type: "string" },
  id: { type: "string" },
  deployments: { type: "boolean" },
  json: { type: "boolean" },
} as const;

/** Reconnection attempts after a connection that worked drops (the server restarting, a network blip). */
const RECONNECT_ATTEMPTS = 8;

const REQUESTS = `subscription($project:String!,$tenant:String,$environment:String,$id:ID){ rollbackRequestUpdated(project:$project,tenant:$tenant,environment:$environment,id:$id){ id state mode tenant environment approvals requiredApprovals breakGlass commitSha error reviews{ reviewer{ email } decision } notes{ text } } }`;
const DEPLOYMENTS = `subscription($project:String!,$tenant:String,$environment:String){ deploymentRecorded(project:$project,tenant:$tenant,environment:$environment){ shortRevision source status summary author{ email } } }`;

interface RequestEvent {
  id: string;
  state: string;
  mode: string;
  tenant: string;
  environment: string;
  approvals: number;
  requiredApprovals: number;
  breakGlass: boolean;
  commitSha: string | null;
  error: string | null;
  reviews: { reviewer: { email: string }; decision: string }[];
  notes: unknown[];
}
interface DeploymentEvent {
  shortRevision: string;
  source: string;
  status: string;
  summary: string;
  author: { email: string };
}

/**
 * Watches rollback requests (or deployments) live over the server's graphql-ws endpoint and
 * prints one line per event until Ctrl-C. A server that cannot be reached, a refused token or a
 * refused subscription ends it with one line and exit code 1; a connection that drops after it
 * worked is retried a few times first.
 */
export function prepareWatch(values: Record<string, string | boolean | undefined>): () => Promise<number> {
  const server = typeof values.server === "string" ? values.server : "http://127.0.0.1:4000";
  let base: URL;
  try {
    base = new URL(server);
  } catch {
    throw new UsageError(`--server is not a URL: "${server}"`);
  }
  if (base.protocol !== "http:" && base.protocol !== "https:") throw new UsageError(`--server must be http:// or https://, got "${server}"`);
  const token = (typeof values.token === "string" ? values.token : (process.env.ROLLBACK_TOKEN ?? "")).trim();
  if (!token) throw new UsageError("--token is required (or set ROLLBACK_TOKEN)");
  const project = typeof values.project === "string" ? values.project.trim() : "";
  if (!project) throw new UsageError("--project is required");

  const url = `${base.origin}${base.pathname.replace(/\/+$/, "").replace(/\/graphql$/, "")}/graphql`.replace(/^http/, "ws");
  const variables = { project, tenant: str(values.tenant), environment: str(values.environment), id: str(values.id) };
  return () => watch(url, token, variables, { deployments: values.deployments === true, json: values.json === true });
}

async function watch(url: string, token: string, variables: Record<string, string | null>, output: { deployments: boolean; json: boolean }): Promise<number> {
  const scope = [variables.project, variables.tenant, variables.environment].filter(Boolean).join("/");
  const time = () => new Date().toISOString().slice(11, 19);

  let connectedOnce = false;
  let lastSocketError: string | null = null;
  let refusedToken = false;
  const client: Client = createClient({
    url,
    webSocketImpl: WebSocket,
    connectionParams: { authorization: `Bearer ${token}` },
    lazy: true, // connects on subscribe, so every failure reaches the sink below
    retryAttempts: RECONNECT_ATTEMPTS,
    // Only a connection that worked is retried: a server that is down now is reported at once.
    shouldRetry: (event) => connectedOnce && closeCode(event) !== 4401 && closeCode(event) !== 4403,
    on: {
      connected: () => {
        if (!connectedOnce) console.error(`watching ${scope} at ${url} (Ctrl-C to stop)`);
        else console.error(`${time()}  reconnected`);
        connectedOnce = true;
        lastSocketError = null;
      },
      error: (event) => {
        lastSocketError = (event as { message?: string })?.message ?? null;
      },
      closed: (event) => {
        if (closeCode(event) === 4401) refusedToken = true;
        else if (connectedOnce) console.error(`${time()}  connection lost (${closeCode(event) ?? "?"}); reconnecting`);
      },
    },
  });

  const outcome = await new Promise<number>((resolve) => {
    const stop = () => resolve(0);
    process.once("SIGINT", stop);
    process.once("SIGTERM", stop);
    let failed = false;
    const report = (errors: readonly { message: string; extensions?: Record<string, unknown> }[]) => {
      failed = true;
      console.error(`error: ${errors.map((e) => `${e.message}${e.extensions?.code ? ` (${String(e.extensions.code as unknown)})` : ""}`).join("; ")}`);
    };
    const sink = {
      error: (err: unknown) => {
        if (refusedToken) console.error("error: the server refused the token (4401): it is unknown, expired or revoked");
        else if (Array.isArray(err)) report(err as { message: string }[]);
        else if (!connectedOnce)
          console.error(
            `error: cannot reach the rollback server at ${url}${lastSocketError ? `: ${lastSocketError}` : ` (connection closed with ${closeCode(err) ?? "no code"})`}`,
          );
        else console.error(`error: lost the connection to ${url} and could not reconnect after ${RECONNECT_ATTEMPTS} attempts`);
        resolve(1);
      },
      complete: () => resolve(failed ? 1 : 0),
    };
    if (output.deployments) {
      client.subscribe<{ deploymentRecorded: DeploymentEvent }>(
        { query: DEPLOYMENTS, variables },
        {
          ...sink,
          next: ({ data, errors }) => {
            if (errors) report(errors);
            const d = data?.deploymentRecorded;
            if (d) console.log(output.json ? JSON.stringify(d) : `${time()}  ${d.shortRevision}  ${d.source.padEnd(9)}  ${d.status.padEnd(11)}  ${d.author.email}  ${d.summary}`);
          },
        },
      );
    } else {
      client.subscribe<{ rollbackRequestUpdated: RequestEvent }>(
        { query: REQUESTS, variables },
        {
          ...sink,
          next: ({ data, errors }) => {
            if (errors) report(errors);
            const r = data?.rollbackRequestUpdated;
            if (r) console.log(output.json ? JSON.stringify(r) : requestLine(time(), r));
          },
        },
      );
    }
  });
  await client.dispose();
  return outcome;
}

function requestLine(time: string, r: RequestEvent): string {
  const extra = [
    `${r.approvals}/${r.requiredApprovals} approvals`,
    r.breakGlass ? "break-glass" : "",
    r.reviews.length ? `reviews: ${r.reviews.map((v) => `${v.reviewer.email} ${v.decision}`).join(", ")}` : "",
    r.notes.length ? `${r.notes.length} notes` : "",
    r.commitSha ? `commit ${r.commitSha.slice(0, 7)}` : "",
    r.error ? `error: ${r.error}` : "",
  ].filter(Boolean);
  return `${time}  ${r.id}  ${r.state.padEnd(9)}  ${r.mode.padEnd(7)}  ${r.tenant}/${r.environment}  ${extra.join("  ")}`;
}

function str(value: string | boolean | undefined): string | null {
  return typeof value === "string" && value.trim() !== "" ? value.trim() : null;
}

function closeCode(event: unknown): number | undefined {
  return event && typeof event === "object" && "code" in event ? (event as { code: number }).code : undefined;
}
