import path from "node:path";
import { parseOptions as parseCommandLine, UsageError } from "../cli/args.js";
import { isSlug } from "../git/layout.js";

export { UsageError };

export const USAGE = `cluster agent simulator: pulls the hosted repository like Argo CD, "applies" the rendered
manifests into a local state file and reports sync status, health and drift to the rollback server.

  rollback-agent --server URL --token T --project P [--tenant T] [--environment E]     (npm run agent -- …)
                   [--interval S [--no-watch]] [--drift] [--degraded] [--degraded-service SVC [--degraded-tag TAG]]
                   [--state-dir DIR]

  --server URL       the rollback server, e.g. http://127.0.0.1:4000 (env AGENT_SERVER)
  --token T          an agent token of the project: npm run cli -- token create --agent --project P
                     (env AGENT_TOKEN, which keeps it out of the process list)
  --project P        the project whose repository is pulled (/git/P.git)
  --tenant T         only this tenant's environments (default: every tenant in the repository)
  --environment E    only this environment (default: every environment)
  --interval S       sync every S seconds until Ctrl-C; without it: sync once and exit. With it, the
                     agent also subscribes to deploymentRecorded (graphql-ws) and syncs as soon as a
                     deployment or rollback is committed
  --no-watch         with --interval: poll only, no subscription
  --drift            after applying, change the live state (one Deployment gets one more replica)
                     and report OUT_OF_SYNC with the drift items
  --degraded         report health "Degraded" instead of "Healthy"
  --degraded-service SVC
                     report "Degraded" only for tenant-environments where service SVC runs (one bad
                     service makes its application Degraded), "Healthy" elsewhere
  --degraded-tag TAG with --degraded-service: only while SVC runs image tag TAG (a bad release
                     crash-looping): after a rollback to another tag it reports "Healthy" again
  --state-dir DIR    where the clone and the applied state live (default ./agent-state/<project>)
  --version          print the version
`;

export interface AgentOptions {
  /** Base URL of the server, without a trailing slash or /graphql. */
  server: string;
  token: string;
  project: string;
  tenant: string | null;
  environment: string | null;
  /** Seconds between syncs; null: sync once. */
  interval: number | null;
  drift: boolean;
  degraded: boolean;
  /** With an interval: also sync when the server announces a new deployment (graphql-ws). */
  watch: boolean;
  /** Only this service's workload is failing (and only while it runs `degradedTag`, when set). */
  degradedService: string | null;
  degradedTag: string | null;
  stateDir: string;
  help: boolean;
  version: boolean;
}

export function parseOptions(argv: string[], env: Record<string, string | undefined> = process.env, cwd = process.cwd()): AgentOptions {
  const values = parseCommandLine(
    argv,
    {
      server: { type: "string" },
      token: { type: "string" },
      project: { type: "string" },
      tenant: { type: "string" },
      environment: { type: "string" },
      interval: { type: "string" },
      drift: { type: "boolean", default: false },
      degraded: { type: "boolean", default: false },
      "degraded-service": { type: "string" },
      "degraded-tag": { type: "string" },
      "no-watch": { type: "boolean", default: false },
      "state-dir": { type: "string" },
      help: { type: "boolean", short: "h", default: false },
      version: { type: "boolean", short: "V", default: false },
    },
    "rollback-agent",
  );
  if (values.help || values.version) {
    return {
      server: "",
      token: "",
      project: "",
      tenant: null,
      environment: null,
      interval: null,
      drift: false,
      degraded: false,
      watch: false,
      degradedService: null,
      degradedTag: null,
      stateDir: "",
      help: values.help ?? false,
      version: !values.help,
    };
  }

  const serverRaw = (values.server ?? env.AGENT_SERVER ?? "").trim();
  if (!serverRaw) throw new UsageError("--server is required (e.g. --server http://127.0.0.1:4000)");
  let server: URL;
  try {
    server = new URL(serverRaw);
  } catch {
    throw new UsageError(`--server is not a URL: "${serverRaw}"`);
  }
  if (server.protocol !== "http:" && server.protocol !== "https:") throw new UsageError(`--server must be http:// or https://, got "${serverRaw}"`);
  if (server.username || server.password) throw new UsageError("--server must not carry credentials: pass the token with --token or AGENT_TOKEN");
  const base = `${server.origin}${server.pathname}`.replace(/\/+$/, "").replace(/\/graphql$/, "");

  const token = (values.token ?? env.AGENT_TOKEN ?? "").trim();
  if (!token) throw new UsageError("--token is required (or set AGENT_TOKEN): npm run cli -- token create --agent --project P");
  if (/\s/.test(token)) throw new UsageError("--token must not contain spaces");

  const project = (values.project ?? "").trim();
  if (!project) throw new UsageError("--project is required");
  if (!isSlug(project)) throw new UsageError(`--project is not a project slug: "${project}"`);
  const tenant = values.tenant?.trim() || null;
  if (tenant && !isSlug(tenant)) throw new UsageError(`--tenant is not a tenant slug: "${tenant}"`);
  const environment = values.environment?.trim() || null;
  if (environment && !isSlug(environment)) throw new UsageError(`--environment is not an environment name: "${environment}"`);

  let interval: number | null = null;
  if (values.interval !== undefined) {
    interval = Number(values.interval);
    if (!Number.isFinite(interval) || interval <= 0 || interval > 86_400) throw new UsageError(`--interval must be a number of seconds above 0, got "${values.interval}"`);
  }

  const degradedService = values["degraded-service"]?.trim() || null;
  if (degradedService && !isSlug(degradedService)) throw new UsageError(`--degraded-service is not a service name: "${degradedService}"`);
  if (degradedService && values.degraded) throw new UsageError("--degraded and --degraded-service exclude each other: --degraded makes every tenant-environment Degraded");
  const degradedTag = values["degraded-tag"]?.trim() || null;
  if (degradedTag && !degradedService) throw new UsageError("--degraded-tag needs --degraded-service (the service whose image tag fails)");
  if (degradedTag && !/^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/.test(degradedTag)) throw new UsageError(`--degraded-tag is not an image tag: "${degradedTag}"`);

  return {
    server: base,
    token,
    project,
    tenant,
    environment,
    interval,
    drift: values.drift ?? false,
    degraded: values.degraded ?? false,
    watch: !(values["no-watch"] ?? false),
    degradedService,
    degradedTag,
    stateDir: path.resolve(cwd, values["state-dir"] ?? path.join("agent-state", project)),
    help: false,
    version: false,
  };
}
