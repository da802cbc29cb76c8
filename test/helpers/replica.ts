import { spawn, type ChildProcess } from "node:child_process";
import { readFileSync } from "node:fs";
import path from "node:path";
import { CLI_MAIN, run } from "./processes.js";

/** A server process started from the compiled build (`npm test` compiles first). */
export interface Replica {
  name: string;
  url: string;
  graphqlUrl: string;
  dataDir: string;
  process: ChildProcess;
  logs: string[];
  /** Resolves with the exit code (or the signal) when the process ends. */
  exited: Promise<number | string>;
  /** SIGTERM and wait for the exit. */
  stop(): Promise<number | string>;
}

/** Starts `node dist/src/main.js` with the given environment and waits until it listens. */
export async function startReplica(name: string, env: Record<string, string>, timeoutMs = 120_000): Promise<Replica> {
  const main = path.resolve("dist/src/main.js");
  const child = spawn(process.execPath, [main], {
    env: { ...process.env, PORT: "0", HOST: "127.0.0.1", LOG_LEVEL: "info", TZ: "UTC", ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  const logs: string[] = [];
  let resolveUrl!: (url: string) => void;
  let rejectUrl!: (err: Error) => void;
  const urlPromise = new Promise<string>((res, rej) => {
    resolveUrl = res;
    rejectUrl = rej;
  });
  const onLine = (line: string) => {
    logs.push(line);
    if (line.includes("rollback server listening")) {
      try {
        resolveUrl((JSON.parse(line) as { url: string }).url.replace(/\/graphql$/, ""));
      } catch {
        /* not JSON */
      }
    }
  };
  for (const stream of [child.stdout!, child.stderr!]) {
    let buffer = "";
    stream.on("data", (chunk: Buffer) => {
      buffer += chunk.toString("utf8");
      let nl: number;
      while ((nl = buffer.indexOf("\n")) >= 0) {
        onLine(buffer.slice(0, nl));
        buffer = buffer.slice(nl + 1);
      }
    });
  }
  const exited = new Promise<number | string>((resolve) => child.on("exit", (code, signal) => resolve(code ?? signal ?? "unknown")));
  void exited.then((code) => rejectUrl(new Error(`replica ${name} exited (${code}) before listening:\n${logs.slice(-20).join("\n")}`)));
  const timer = setTimeout(() => rejectUrl(new Error(`replica ${name} did not listen within ${timeoutMs} ms:\n${logs.slice(-20).join("\n")}`)), timeoutMs);
  const url = await urlPromise.finally(() => clearTimeout(timer));
  return {
    name,
    url,
    graphqlUrl: `${url}/graphql`,
    dataDir: env.DATA_DIR ?? "",
    process: child,
    logs,
    exited,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill("SIGTERM");
      return exited;
    },
  };
}

/**
 * Replica A seeds the demo (pushing it to the Git remote), then B starts on the same database and
 * clones; both with `envFor(name, { SEED: "demo" })`. Returns them and the demo users' tokens.
 */
export async function startDemoReplicas(
  envFor: (name: string, extra?: Record<string, string>) => Record<string, string>,
): Promise<{ a: Replica; b: Replica; tokens: Record<string, string> }> {
  const a = await startReplica("a", envFor("a", { SEED: "demo" }));
  const b = await startReplica("b", envFor("b", { SEED: "demo" })).catch(async (err: unknown) => {
    await a.stop();
    throw err;
  });
  const tokens = JSON.parse(readFileSync(path.join(a.dataDir, "demo-tokens.json"), "utf8")) as Record<string, string>;
  return { a, b, tokens };
}

/** An agent token for the demo project, made with the CLI against the replicas' database (`env`: a replica's environment). */
export async function agentTokenByCli(env: Record<string, string>): Promise<string> {
  const cli = await run(process.execPath, [CLI_MAIN, "token", "create", "--agent", "--project", "demo"], {
    env: { ...process.env, ...env, LOG_LEVEL: "silent", REDIS_URL: "", GIT_REMOTE: "" },
  });
  if (cli.code !== 0) throw new Error(`token create failed (${cli.code}): ${cli.stderr}`);
  return cli.stdout.trim();
}

/** A GraphQL call over HTTP to a replica. */
export async function call<T = Record<string, unknown>>(
  replica: Pick<Replica, "graphqlUrl">,
  token: string,
  query: string,
  variables?: Record<string, unknown>,
): Promise<{ data?: T; errors?: { message: string; extensions?: { code?: string; status?: number } }[] }> {
  const res = await fetch(replica.graphqlUrl, {
    method: "POST",
    headers: { "content-type": "application/json", authorization: `Bearer ${token}` },
    body: JSON.stringify({ query, variables }),
  });
  return (await res.json()) as { data?: T; errors?: { message: string; extensions?: { code?: string; status?: number } }[] };
}
