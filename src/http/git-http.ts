import { spawn } from "node:child_process";
import { access } from "node:fs/promises";
import type { IncomingMessage, ServerResponse } from "node:http";
import path from "node:path";
import { gunzipSync } from "node:zlib";
import type { Logger } from "pino";
import type { Project } from "../../entities/project.js";
import type { GitStore } from "../git/git-store.js";
import { SLUG_PATTERN } from "../git/layout.js";
import { FairSlots } from "../lib/fair-slots.js";
import type { AccessService } from "../services/access.js";
import type { Actor } from "../services/actor.js";
import { AuthService } from "../services/auth.js";
import type { Catalog } from "../services/catalog.js";

/** The realm git shows when it asks for credentials. */
export const GIT_REALM = "rollback-server";

/**
 * The only paths served, matched against the raw (undecoded) request path: the two endpoints of
 * the smart HTTP protocol for fetching. No `%`, no `..`, no second slash can get through, so the
 * path git http-backend sees is always built from a validated slug and one of these suffixes.
 */
const SMART_PATH = new RegExp(`^/git/(${SLUG_PATTERN})\\.git/(info/refs|git-upload-pack|git-receive-pack)$`);

/** Largest CGI header block we accept from git http-backend. */
const MAX_CGI_HEADER_BYTES = 64 * 1024;

/** The Git endpoint's limits: a slow or greedy client holds no process and cannot take all of them. */
export interface GitHttpLimits {
  /** Percent of GIT_HTTP_MAX_PROCESSES one organization's repositories may hold at once (at least one process). */
  orgSharePercent: number;
  /** Seconds a request waits for a free process before it is answered 503 with Retry-After. */
  queueWaitSeconds: number;
  /** Seconds a client has to send a whole request body; slower bodies are answered 408. */
  bodyTimeoutSeconds: number;
  /** Largest request body (upload-pack wants and haves), as sent; larger ones are answered 413. */
  maxBodyBytes: number;
}

type Outcome = { status: number; message: string; headers?: Record<string, string> };

/** What the Git endpoint works with: the repositories, who is calling and what they may read. */
export interface GitHttpOptions {
  git: GitStore;
  auth: AuthService;
  access: AccessService;
  catalog: Catalog;
  logger: Logger;
  /** At most this many `git http-backend` processes at once (GIT_HTTP_MAX_PROCESSES). */
  maxProcesses: number;
  /** Fair sharing of those processes, the queue's wait and the request body's size and time. */
  limits: GitHttpLimits;
}

/** Seconds a client refused for lack of a free process is asked to wait before trying again. */
const RETRY_AFTER_SECONDS = 5;

/**
 * Serves each project's repository read-only over Git smart HTTP at /git/<project>.git, for
 * Argo CD, cluster agents and `git clone`. The protocol itself is the real `git http-backend`
 * CGI; this class only decides who may read what and translates HTTP to CGI and back.
 *
 *  - Credentials: HTTP basic with the token as password (any user name; a token given as the
 *    user name with an empty password works too), or `Authorization: Bearer <token>`.
 *  - Readers: a user with any role in the project, or the project's own agent token.
 *  - 401 + WWW-Authenticate without (valid) credentials; 404 for a project that does not exist
 *    or is not visible to the caller, and for every path that is not a smart-HTTP fetch
 *    endpoint; 403 for any push (git-receive-pack), whoever asks.
 *  - Load: a request takes a `git http-backend` process only once its whole body has arrived
 *    (408 when it takes longer than GIT_HTTP_BODY_TIMEOUT_SECONDS, 413 beyond
 *    GIT_HTTP_MAX_BODY_BYTES, 400 when it is not a pkt-line stream); one organization's
 *    repositories hold at most GIT_HTTP_ORG_SHARE_PERCENT of the processes; a request that waits
 *    longer than GIT_HTTP_QUEUE_WAIT_SECONDS for one is answered 503 with Retry-After.
 */
export class GitHttpBackend {
  /** Many agents polling at once must not fork a git process each: the rest wait their turn. */
  private readonly backends: FairSlots;

  constructor(private readonly options: GitHttpOptions) {
    const perOrganization = Math.max(1, Math.floor((options.maxProcesses * options.limits.orgSharePercent) / 100));
    this.backends = new FairSlots(options.maxProcesses, perOrganization);
  }

  /** git http-backend slots in use, requests waiting for one, and the limit: read by the metrics. */
  slotUsage(): { inUse: number; queued: number; capacity: number } {
    return { ...this.backends.usage(), capacity: this.options.maxProcesses };
  }

  async handle(req: IncomingMessage, res: ServerResponse, _url: URL): Promise<void> {
    // Work on the raw request target, not the URL the router normalized: `..` and `%2e%2e`
    // segments are already resolved there, and we want to refuse them, not interpret them.
    const raw = req.url ?? "/";
    const q = raw.indexOf("?");
    const rawPath = q === -1 ? raw : raw.slice(0, q);
    const query = new URLSearchParams(q === -1 ? "" : raw.slice(q + 1));
    const match = SMART_PATH.exec(rawPath);
    if (!match) return this.refuse(res, { status: 404, message: "not found" });
    const slug = match[1]!;
    const endpoint = match[2] as "info/refs" | "git-upload-pack" | "git-receive-pack";

    // Read-only: refuse every push before anything else, for everyone (it reveals nothing).
    const service = query.get("service");
    if (endpoint === "git-receive-pack" || service === "git-receive-pack") {
      return this.refuse(res, { status: 403, message: "this repository is read-only: pushes are refused (changes go through the rollback server's API)" });
    }
    if (endpoint === "info/refs" && service !== "git-upload-pack") {
      // The dumb HTTP protocol (plain file downloads) is not served.
      return this.refuse(res, { status: 404, message: "not found: only the smart HTTP protocol is served (info/refs?service=git-upload-pack)" });
    }
    const method = req.method ?? "GET";
    const expected = endpoint === "info/refs" ? "GET" : "POST";
    if (method !== expected) return this.refuse(res, { status: 405, message: `use ${expected}`, headers: { allow: expected } });

    const actor = await this.authenticate(req);
    if (!actor) {
      return this.refuse(res, {
        status: 401,
        message: "authentication required: use the token as password (http://x:<token>@host/...) or Authorization: Bearer <token>",
        headers: { "www-authenticate": `Basic realm="${GIT_REALM}", charset="UTF-8"` },
      });
    }
    const project = await this.readableProject(actor, slug);
    if (!project) return this.refuse(res, { status: 404, message: "not found" });

    const repoDir = this.options.git.repositoryPath(project.slug);
    const root = path.dirname(repoDir);
    try {
      // Opening makes sure the local repository exists (in scale-out mode, a replica clones it
      // from the hosted remote on first use); before advertising refs, it is brought up to date.
      const repo = await this.options.git.open(project.slug);
      if (path.resolve(repo.path) !== repoDir) throw new Error(`unexpected repository path ${repo.path}`);
      if (endpoint === "info/refs") await repo.refresh();
    } catch (err) {
      this.options.logger.warn({ err, project: project.slug }, "git http: could not open or refresh the repository; serving the local copy if there is one");
    }
    try {
      await access(path.join(repoDir, "HEAD"));
    } catch {
      return this.refuse(res, { status: 404, message: "not found: the project has no repository yet" });
    }
    // The whole body first: a client trickling it holds a buffer, never a process.
    let body: Buffer | null = null;
    if (endpoint === "git-upload-pack") {
      const read = await this.readBody(req);
      if (read === null) return; // the client went away
      if ("status" in read) return this.refuse(res, read);
      body = read.body;
    }
    const gone = new AbortController();
    res.on("close", () => gone.abort());
    const release = await this.backends.acquire(project.organizationId, this.options.limits.queueWaitSeconds * 1000, gone.signal);
    if (!release) {
      // A client that gave up while waiting needs no answer.
      if (res.destroyed || req.socket.destroyed) return;
      return this.refuse(res, {
        status: 503,
        message: `the Git endpoint is busy: no git process became free within ${this.options.limits.queueWaitSeconds} s; retry in a few seconds`,
        headers: { "retry-after": String(RETRY_AFTER_SECONDS) },
      });
    }
    try {
      if (res.destroyed || req.socket.destroyed) return;
      await this.runBackend(req, res, body, {
        root,
        pathInfo: `/${project.slug}.git/${endpoint}`,
        queryString: endpoint === "info/refs" ? "service=git-upload-pack" : "",
        method: expected,
        remoteUser: actor.kind === "agent" ? `agent:${actor.tokenId}` : actor.kind === "user" ? actor.user.email : "system",
        repoDir,
      });
    } finally {
      release();
    }
  }

  /**
   * Reads an upload-pack request body whole, within the size and time limits, and checks that it
   * is a pkt-line stream (after gzip, which git uses for large requests). Null when the client
   * went away; an outcome to answer with when the body is refused.
   */
  private readBody(req: IncomingMessage): Promise<{ body: Buffer } | Outcome | null> {
    const { maxBodyBytes, bodyTimeoutSeconds } = this.options.limits;
    const closing = { connection: "close" };
    const declared = header(req, "content-length");
    if (declared && /^\d+$/.test(declared) && Number(declared) > maxBodyBytes) {
      return Promise.resolve({ status: 413, message: `request body larger than ${maxBodyBytes} bytes`, headers: closing });
    }
    const encoding = (header(req, "content-encoding") ?? "identity").trim().toLowerCase();
    if (!["identity", "gzip", "x-gzip"].includes(encoding))
      return Promise.resolve({ status: 415, message: `unsupported content-encoding "${encoding.slice(0, 40)}"`, headers: closing });

    return new Promise((resolve) => {
      const chunks: Buffer[] = [];
      let received = 0;
      let done = false;
      const finish = (result: { body: Buffer } | Outcome | null) => {
        if (done) return;
        done = true;
        clearTimeout(timer);
        req.off("data", onData);
        req.off("end", onEnd);
        // A refused body is not read any further: the connection closes after the answer.
        if (result && "status" in result) req.once("end", () => undefined).resume();
        resolve(result);
      };
      const timer = setTimeout(() => finish({ status: 408, message: `request body not received within ${bodyTimeoutSeconds} s`, headers: closing }), bodyTimeoutSeconds * 1000);
      const onData = (chunk: Buffer) => {
        received += chunk.length;
        if (received > maxBodyBytes) return finish({ status: 413, message: `request body larger than ${maxBodyBytes} bytes`, headers: closing });
        chunks.push(chunk);
      };
      const onEnd = () => {
        const body = Buffer.concat(chunks);
        let plain: Buffer;
        try {
          plain = encoding === "identity" ? body : gunzipSync(body, { maxOutputLength: maxBodyBytes });
        } catch {
          return finish({ status: 400, message: "malformed upload-pack request: the body is not valid gzip (or unpacks beyond the size limit)" });
        }
        if (!isPktLineStream(plain)) return finish({ status: 400, message: "malformed upload-pack request: the body is not a pkt-line stream" });
        finish({ body });
      };
      req.on("data", onData);
      req.on("end", onEnd);
      req.on("error", () => finish(null));
      req.on("aborted", () => finish(null));
    });
  }

  private async authenticate(req: IncomingMessage): Promise<Actor | null> {
    const token = tokenFrom(req.headers.authorization);
    if (!token) return null;
    return this.options.auth.authenticate(token);
  }

  /** The project when the caller may read its repository; null when it does not exist for them. */
  private async readableProject(actor: Actor, slug: string): Promise<Project | null> {
    if (actor.kind === "agent") {
      const project = await this.options.catalog.findProject(slug);
      return project && project.id === actor.projectId ? project : null;
    }
    const access = await this.options.access.findProject(actor, slug);
    return access?.project ?? null;
  }

  private refuse(res: ServerResponse, outcome: Outcome): void {
    if (res.headersSent || res.destroyed) return;
    for (const name of res.getHeaderNames()) res.removeHeader(name);
    res.statusCode = outcome.status;
    for (const [k, v] of Object.entries(outcome.headers ?? {})) res.setHeader(k, v);
    res.setHeader("content-type", "text/plain; charset=utf-8");
    res.setHeader("cache-control", "no-store");
    res.end(`${outcome.message}\n`);
  }

  /** Runs `git http-backend` for one request: the body (already read) goes in, the CGI response streams out. */
  private runBackend(
    req: IncomingMessage,
    res: ServerResponse,
    body: Buffer | null,
    cgi: { root: string; pathInfo: string; queryString: string; method: string; remoteUser: string; repoDir: string },
  ): Promise<void> {
    const env: Record<string, string> = {
      PATH: process.env.PATH ?? "/usr/local/bin:/usr/bin:/bin",
      // Hermetic: no user-level git configuration of the server's account applies.
      GIT_CONFIG_GLOBAL: "/dev/null",
      GIT_PROJECT_ROOT: cgi.root,
      GIT_HTTP_EXPORT_ALL: "1",
      GATEWAY_INTERFACE: "CGI/1.1",
      SERVER_PROTOCOL: `HTTP/${req.httpVersion}`,
      REQUEST_METHOD: cgi.method,
      PATH_INFO: cgi.pathInfo,
      QUERY_STRING: cgi.queryString,
      REMOTE_USER: cgi.remoteUser,
      REMOTE_ADDR: req.socket.remoteAddress ?? "",
    };
    const contentType = header(req, "content-type");
    if (contentType) env.CONTENT_TYPE = contentType;
    if (body) env.CONTENT_LENGTH = String(body.length);
    const encoding = header(req, "content-encoding");
    if (encoding && /^[a-z0-9-]+$/i.test(encoding)) env.HTTP_CONTENT_ENCODING = encoding;
    const protocol = header(req, "git-protocol");
    if (protocol && /^[\w.=:-]+$/.test(protocol) && protocol.length <= 200) env.HTTP_GIT_PROTOCOL = protocol;

    const args = [
      // Defense in depth: pushes and plain file downloads are off in git itself too.
      "-c",
      "http.receivepack=false",
      "-c",
      "http.getanyfile=false",
      "-c",
      `safe.directory=${cgi.repoDir}`,
      "http-backend",
    ];
    const child = spawn("git", args, { env, stdio: ["pipe", "pipe", "pipe"] });
    const log = this.options.logger;

    return new Promise<void>((resolve) => {
      let settled = false;
      const finish = () => {
        if (!settled) {
          settled = true;
          resolve();
        }
      };
      let stderr = "";
      child.stderr.on("data", (chunk: Buffer) => {
        if (stderr.length < 4096) stderr += chunk.toString("utf8");
      });

      // Request body in; a client that goes away takes the CGI with it.
      child.stdin.on("error", () => {
        /* the backend may exit before reading everything (e.g. on a protocol error) */
      });
      child.stdin.end(body ?? Buffer.alloc(0));
      res.on("close", () => {
        if (child.exitCode === null && child.signalCode === null) child.kill("SIGTERM");
      });

      // CGI response out: headers up to the first blank line, then the body, streamed.
      let head: Buffer = Buffer.alloc(0);
      let headersDone = false;
      const onData = (chunk: Buffer) => {
        if (headersDone) {
          if (!res.write(chunk)) {
            child.stdout.pause();
            res.once("drain", () => child.stdout.resume());
          }
          return;
        }
        head = Buffer.concat([head, chunk]);
        const split = headerEnd(head);
        if (split === null) {
          if (head.length > MAX_CGI_HEADER_BYTES) {
            child.kill("SIGTERM");
            if (!res.headersSent) this.refuse(res, { status: 502, message: "bad gateway" });
          }
          return;
        }
        headersDone = true;
        const { status, headers } = parseCgiHeaders(head.subarray(0, split.at).toString("latin1"));
        res.statusCode = status;
        for (const [k, v] of headers) res.setHeader(k, v);
        res.setHeader("cache-control", res.getHeader("cache-control") ?? "no-cache");
        const rest = head.subarray(split.at + split.length);
        if (rest.length > 0) res.write(rest);
      };
      child.stdout.on("data", onData);
      child.on("error", (err) => {
        log.error({ err }, "git http: could not run git http-backend");
        if (!res.headersSent) this.refuse(res, { status: 500, message: "internal server error" });
        else res.destroy();
        finish();
      });
      child.on("close", (code, signal) => {
        if (code !== 0) log.warn({ code, signal, stderr: stderr.trim() || undefined, path: cgi.pathInfo }, "git http-backend exited with an error");
        if (!headersDone || (code !== 0 && !res.headersSent)) {
          // Nothing reached the client yet: a plain HTTP answer instead of a silent close.
          this.refuse(res, { status: 500, message: "internal server error: git http-backend could not answer this request" });
        } else if (code !== 0 && !res.writableEnded) {
          // The body is cut short; tell the client instead of pretending it is complete.
          res.destroy();
          return finish();
        }
        if (!res.writableEnded) res.end();
        finish();
      });
    });
  }
}

/** The token of `Authorization: Bearer <t>` or of basic credentials (password, or user name when the password is empty). */
export function tokenFrom(authorization: string | undefined): string | null {
  if (!authorization) return null;
  const bearer = AuthService.parseAuthorization(authorization);
  if (bearer) return bearer;
  const basic = /^Basic\s+([A-Za-z0-9+/=]+)\s*$/i.exec(authorization.trim());
  if (!basic) return null;
  const decoded = Buffer.from(basic[1]!, "base64").toString("utf8");
  const colon = decoded.indexOf(":");
  const user = colon === -1 ? decoded : decoded.slice(0, colon);
  const password = colon === -1 ? "" : decoded.slice(colon + 1);
  const token = password || user;
  return token && !/\s/.test(token) ? token : null;
}

function header(req: IncomingMessage, name: string): string | undefined {
  const v = req.headers[name];
  return Array.isArray(v) ? v[0] : v;
}

function headerEnd(buf: Buffer): { at: number; length: number } | null {
  const crlf = buf.indexOf("\r\n\r\n");
  const lf = buf.indexOf("\n\n");
  if (crlf === -1 && lf === -1) return null;
  if (crlf !== -1 && (lf === -1 || crlf < lf)) return { at: crlf, length: 4 };
  return { at: lf, length: 2 };
}

/** CGI response headers: `Status: 404 Not Found` sets the status, everything else passes through. */
export function parseCgiHeaders(text: string): { status: number; headers: [string, string][] } {
  let status = 200;
  const headers: [string, string][] = [];
  for (const line of text.split(/\r?\n/)) {
    const colon = line.indexOf(":");
    if (colon <= 0) continue;
    const name = line.slice(0, colon).trim().toLowerCase();
    const value = line.slice(colon + 1).trim();
    if (name === "status") {
      const code = Number.parseInt(value, 10);
      if (code >= 100 && code <= 599) status = code;
    } else if (/^[a-z0-9-]+$/.test(name) && name !== "content-length" && name !== "transfer-encoding" && name !== "connection") {
      headers.push([name, value]);
    }
  }
  return { status, headers };
}

/**
 * Whether `buf` is a non-empty sequence of pkt-lines, the framing of every upload-pack request:
 * four hex digits giving the line's length (header included), or 0000/0001/0002 (flush,
 * delimiter, response end). Hand-written: no maintained npm package exposes a pkt-line parser.
 */
export function isPktLineStream(buf: Buffer): boolean {
  if (buf.length === 0) return false;
  for (let i = 0; i < buf.length;) {
    if (i + 4 > buf.length) return false;
    const hex = buf.toString("latin1", i, i + 4);
    if (!/^[0-9a-f]{4}$/i.test(hex)) return false;
    const n = Number.parseInt(hex, 16);
    if (n <= 2) i += 4;
    else if (n < 4 || i + n > buf.length) return false;
    else i += n;
  }
  return true;
}
