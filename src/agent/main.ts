import path from "node:path";
import { StatusBoard, type EnvironmentLine } from "./display.js";
import { AgentError } from "./errors.js";
import { computeDrift, desiredState, discoverEnvironments, failingWorkload, simulateDrift } from "./manifests.js";
import { parseOptions, UsageError, USAGE, type AgentOptions } from "./options.js";
import { pullRepository } from "./repo.js";
import { ServerClient } from "./server.js";
import { loadState, saveState } from "./state.js";
import { VERSION } from "../version.js";
import { RoundTrigger } from "./trigger.js";
import { watchDeployments } from "./watch.js";

/**
 * The cluster agent simulator. Each round it does what Argo CD and its cluster would:
 *  1. pull the project's hosted repository over Git smart HTTP (clone once, fetch after);
 *  2. "apply" the rendered manifests (tenants/<t>/<e>/rendered/*.yaml) of its tenant-environments
 *     into a local state file, the simulated cluster (auto-sync with self-heal: each round starts
 *     from what Git says);
 *  3. with --drift, change the live state afterwards (as `kubectl scale` would);
 *  4. compare desired (Git) with live and report each tenant-environment with reportSyncStatus:
 *     SYNCED, or OUT_OF_SYNC with the drift items; health Healthy, or Degraded with --degraded (or
 *     with --degraded-service, where that service runs, optionally only on --degraded-tag).
 */

interface RoundResult {
  head: string;
  lines: EnvironmentLine[];
  errors: AgentError[];
}

async function syncRound(opts: AgentOptions, client: ServerClient, signal?: AbortSignal): Promise<RoundResult> {
  await client.checkAccess(signal);
  const worktree = path.join(opts.stateDir, "repo");
  const head = await pullRepository({ url: client.repositoryUrl, token: opts.token, dir: worktree, signal });
  const environments = await discoverEnvironments(worktree, { tenant: opts.tenant, environment: opts.environment });

  // Apply: the simulated cluster now runs what Git says (plus the simulated manual change).
  const state = await loadState(opts.stateDir, opts.project);
  const desired = new Map<string, Awaited<ReturnType<typeof desiredState>>>();
  for (const te of environments) {
    const name = `${te.tenant}/${te.environment}`;
    const want = await desiredState(worktree, te);
    const live = structuredClone(want);
    if (opts.drift) simulateDrift(want, live);
    desired.set(name, want);
    state.environments[name] = { revision: head, appliedAt: new Date().toISOString(), resources: live };
  }
  await saveState(opts.stateDir, state);

  // Observe and report.
  const lines: EnvironmentLine[] = [];
  const errors: AgentError[] = [];
  for (const te of environments) {
    const name = `${te.tenant}/${te.environment}`;
    const drift = computeDrift(desired.get(name)!, state.environments[name]!.resources);
    const failing = opts.degradedService ? failingWorkload(state.environments[name]!.resources, opts.degradedService, opts.degradedTag) : null;
    const health = opts.degraded || failing ? "Degraded" : "Healthy";
    const degraded = failing ? `Deployment ${failing.name} (${failing.image})` : null;
    try {
      const status = await client.report(
        { project: opts.project, tenant: te.tenant, environment: te.environment, revision: head, state: drift.length > 0 ? "OUT_OF_SYNC" : "SYNCED", health, drift },
        signal,
      );
      lines.push({ name, state: status.state, health: status.health, revision: status.revision, at: new Date(), drift, degraded, error: null });
    } catch (err) {
      if (!(err instanceof AgentError)) throw err;
      if (err.fatal) throw err;
      errors.push(err);
      lines.push({ name, state: "ERROR", health: null, revision: head, at: new Date(), drift: [], error: err.message });
    }
  }
  return { head, lines, errors };
}

async function main(argv: string[]): Promise<number> {
  let opts: AgentOptions;
  try {
    opts = parseOptions(argv);
  } catch (err) {
    if (err instanceof UsageError) {
      process.stderr.write(`error: ${err.message} (rollback-agent --help)\n`);
      return 2;
    }
    throw err;
  }
  if (opts.help) {
    process.stdout.write(USAGE);
    return 0;
  }
  if (opts.version) {
    process.stdout.write(`rollback-agent ${VERSION}\n`);
    return 0;
  }

  const client = new ServerClient(opts.server, opts.token, opts.project);
  const board = new StatusBoard();
  const stop = new AbortController();
  const onSignal = () => {
    if (stop.signal.aborted) process.exit(130); // second Ctrl-C: do not wait for anything
    stop.abort();
  };
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);
  const stopped = () => {
    board.message("stopped");
    return 0;
  };

  if (opts.interval === null) {
    try {
      const round = await syncRound(opts, client, stop.signal);
      board.render(round.lines);
      if (round.errors.length > 0) {
        process.stderr.write(`error: ${round.errors[0]!.message}\n`);
        return 1;
      }
      return 0;
    } catch (err) {
      if (stop.signal.aborted) return stopped();
      if (err instanceof AgentError) {
        process.stderr.write(`error: ${err.message}\n`);
        return 1;
      }
      throw err;
    }
  }

  if (board.tty)
    board.message(`agent for project ${opts.project} at ${opts.server}: syncing every ${opts.interval} s${opts.watch ? " and on every new deployment" : ""} (Ctrl-C to stop)`);
  let last: EnvironmentLine[] = [];
  let applied: string | null = null;
  const nextRound = new RoundTrigger();
  // A new deployment (PENDING) at a revision not applied yet: sync now. Status changes of known
  // deployments (our own reports turning them SUCCESS) are not news.
  const watcher = opts.watch
    ? watchDeployments({
        ...opts,
        onDeployment: (d) => {
          if (d.status === "PENDING" && d.revision !== applied) nextRound.fire();
        },
        // Connected again after a gap: something may have been committed meanwhile.
        onConnectionChange: (connected) => connected && applied !== null && nextRound.fire(),
      })
    : null;
  while (!stop.signal.aborted) {
    try {
      nextRound.reset();
      const round = await syncRound(opts, client, stop.signal);
      applied = round.head;
      last = round.lines;
      board.render(last);
    } catch (err) {
      if (stop.signal.aborted) break;
      if (!(err instanceof AgentError)) throw err;
      if (err.fatal) {
        process.stderr.write(`error: ${err.message}\n`);
        return 1;
      }
      // Transient (server restarting, network): show it and try again next round.
      const at = new Date();
      board.render(
        last.length > 0
          ? last.map((l) => ({ ...l, at, error: err.message }))
          : [{ name: opts.project, state: "ERROR", health: null, revision: null, at, drift: [], error: err.message }],
      );
    }
    if (!(await nextRound.wait(opts.interval * 1000, stop.signal))) break;
  }
  await watcher?.dispose();
  return stopped();
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err) => {
    process.stderr.write(`error: ${(err as Error)?.message ?? String(err)}\n`);
    process.exit(1);
  },
);
