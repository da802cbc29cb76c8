import { repositoryUrl } from "../git/layout.js";
import { AgentError, describeFetchError } from "./errors.js";
import type { DriftItem } from "./manifests.js";

const REQUEST_TIMEOUT_MS = 30_000;

export interface SyncReport {
  project: string;
  tenant: string;
  environment: string;
  revision: string;
  state: "SYNCED" | "OUT_OF_SYNC";
  health: string;
  drift: DriftItem[];
}

/** The server's answer to a report: tenantEnvironment.sync as it now stands. */
export interface ReportedStatus {
  revision: string | null;
  state: string;
  agent: string;
  health: string | null;
  lastReportAt: string | null;
  drift: DriftItem[];
}

const REPORT = `mutation ReportSyncStatus($input: SyncReportInput!) {
  reportSyncStatus(input: $input) { revision state agent health lastReportAt drift { kind name field desired actual } }
}`;

/** The rollback server as the agent sees it: its Git endpoint and the reportSyncStatus mutation. */
export class ServerClient {
  constructor(
    readonly base: string,
    private readonly token: string,
    readonly project: string,
  ) {}

  get repositoryUrl(): string {
    return repositoryUrl(this.base, this.project);
  }

  /**
   * Asks the Git endpoint for the refs before git does, so a refused token or an unknown project
   * is reported in one clear line instead of git's generic messages.
   */
  async checkAccess(signal?: AbortSignal): Promise<void> {
    const url = `${this.repositoryUrl}/info/refs?service=git-upload-pack`;
    let res: Response;
    try {
      res = await fetch(url, { headers: { authorization: `Bearer ${this.token}` }, signal: withTimeout(signal) });
      await res.body?.cancel();
    } catch (err) {
      if (signal?.aborted) throw err;
      throw new AgentError(describeFetchError(err, this.base));
    }
    if (res.status === 401) throw new AgentError(`the server refused the token (401): it is unknown, expired or revoked`, true);
    if (res.status === 404) throw new AgentError(`project "${this.project}" not found at ${this.base}, or the token is not an agent token of this project (404)`, true);
    if (res.status !== 200) throw new AgentError(`the server's Git endpoint answered HTTP ${res.status} for ${this.repositoryUrl}`);
  }

  async report(report: SyncReport, signal?: AbortSignal): Promise<ReportedStatus> {
    const url = `${this.base}/graphql`;
    let res: Response;
    try {
      res = await fetch(url, {
        method: "POST",
        headers: { "content-type": "application/json", authorization: `Bearer ${this.token}` },
        body: JSON.stringify({ query: REPORT, variables: { input: report } }),
        signal: withTimeout(signal),
      });
    } catch (err) {
      if (signal?.aborted) throw err;
      throw new AgentError(describeFetchError(err, this.base));
    }
    let body: { data?: { reportSyncStatus?: ReportedStatus } | null; errors?: { message: string; extensions?: { code?: string } }[] };
    try {
      body = (await res.json()) as typeof body;
    } catch {
      throw new AgentError(`the server answered HTTP ${res.status} with something that is not GraphQL (is ${this.base} the rollback server?)`);
    }
    const error = body.errors?.[0];
    if (error) {
      const code = error.extensions?.code ?? "ERROR";
      const where = `${report.tenant}/${report.environment}`;
      if (code === "UNAUTHENTICATED") throw new AgentError(`the server refused the token (401): ${error.message}`, true);
      throw new AgentError(`report for ${where} refused: ${error.message} (${code})`, code === "FORBIDDEN" || code === "NOT_FOUND");
    }
    if (!body.data?.reportSyncStatus) throw new AgentError(`the server answered HTTP ${res.status} without a sync status`);
    return body.data.reportSyncStatus;
  }
}

function withTimeout(signal: AbortSignal | undefined): AbortSignal {
  const timeout = AbortSignal.timeout(REQUEST_TIMEOUT_MS);
  return signal ? AbortSignal.any([signal, timeout]) : timeout;
}
