import type { ParseArgsConfig } from "node:util";
import { Plan, Role, TokenKind } from "../../entities/enums.js";
import { Organization } from "../../entities/organization.js";
import { Project } from "../../entities/project.js";
import type { App } from "../app.js";
import { seedDemoIfEmpty } from "../seed/demo.js";
import type { Actor } from "../services/actor.js";
import { UsageError } from "./args.js";
import { prepareWatch, WATCH_OPTIONS } from "./watch.js";

type Values = Record<string, string | boolean | undefined>;

export interface Command {
  /** The words that select it: "token create". */
  name: string;
  summary: string;
  /** Lines after the command name in its usage, then one line per option. */
  usage: string;
  options: NonNullable<ParseArgsConfig["options"]>;
  /**
   * What it needs of the database: "none" (talks to a server), "existing" (reads or adds to
   * one that exists; an empty DATA_DIR is reported, never initialized), "create" (may create it).
   */
  storage: "none" | "existing" | "create";
  /** Said when storage is "existing" and there is no database. */
  nothingThere?: string;
  /**
   * Checks the arguments (a UsageError before any storage is touched) and returns the work,
   * which gets the app (null when storage is "none") and resolves to the exit code.
   */
  prepare(values: Values): (app: App) => Promise<number>;
}

const operator: Actor = { kind: "system", user: null };

export const COMMANDS: Command[] = [
  {
    name: "token create",
    summary: "issue a user token (granting a role) or a cluster agent's token; printed once",
    usage: `--email E --project P [--role VIEWER|DEPLOYER|APPROVER|ADMIN] [--label L] [--expires-days N] [--json]
       token create --agent --project P [--label L] [--json]

  --email E          the user (created when new)
  --project P        the project the token's role (or the agent) belongs to
  --role R           grant this role in the project (required for a user without one)
  --agent            a cluster agent's token instead (reads the repository, reports sync status)
  --label L          a note stored with the token
  --expires-days N   user tokens only: valid for N days (default: no expiry)
  --json             print {"token","id","kind"} instead of the bare token`,
    options: {
      email: { type: "string" },
      project: { type: "string" },
      role: { type: "string" },
      label: { type: "string" },
      agent: { type: "boolean" },
      "expires-days": { type: "string" },
      json: { type: "boolean" },
    },
    storage: "existing",
    nothingThere: "no project to issue a token for",
    prepare(values) {
      const project = required(values, "project");
      const days = values["expires-days"] === undefined ? null : wholeNumber(values, "expires-days");
      if (values.agent && (values.email || values.role || days !== null)) throw new UsageError("--agent tokens take only --project and --label");
      const email = values.agent ? undefined : required(values, "email");
      const granted = values.agent || values.role === undefined ? undefined : role(values);
      return async (app) => {
        const issued = values.agent
          ? await app.auth.createToken({ actor: operator, kind: TokenKind.AGENT, projectSlug: project, label: str(values.label) })
          : await app.auth.createToken({
              actor: operator,
              kind: TokenKind.USER,
              projectSlug: project,
              email,
              role: granted,
              label: str(values.label),
              expiresAt: days ? new Date(Date.now() + days * 86_400_000) : null,
            });
        if (values.json) console.log(JSON.stringify({ token: issued.token, id: issued.record.id, kind: issued.record.kind }));
        else {
          console.log(issued.token);
          console.error(`(${issued.record.kind.toLowerCase()} token ${issued.record.id} for project ${project}; shown once, stored only as a hash)`);
        }
        return 0;
      };
    },
  },
  {
    name: "user create",
    summary: "create a user, optionally with a role in a project",
    usage: `--email E [--name N] [--project P --role R]

  --email E     the user's email (their identity)
  --name N      display name (default: from the email)
  --project P   grant a role in this project (with --role)
  --role R      VIEWER, DEPLOYER, APPROVER or ADMIN`,
    options: { email: { type: "string" }, name: { type: "string" }, project: { type: "string" }, role: { type: "string" } },
    storage: "existing",
    nothingThere: "no database to add a user to",
    prepare(values) {
      const email = required(values, "email");
      const slug = str(values.project);
      const granted = slug ? role(values) : null;
      if (!slug && values.role !== undefined) throw new UsageError("--role needs --project");
      return async (app) => {
        const project = slug ? await app.db.manager.findOneBy(Project, { slug }) : null;
        if (slug && !project) throw new UsageError(`project "${slug}" not found`);
        const user = await app.auth.ensureUser(email, str(values.name) ?? null);
        if (project && granted) await app.auth.grant(user, project, granted);
        console.log(`${user.id} ${user.email}${project ? ` (${granted} in ${project.slug})` : ""}`);
        return 0;
      };
    },
  },
  {
    name: "project create",
    summary: "create an organization (if new) and a project with its environments and tenants",
    usage: `--org O --plan FREE|PRO|ENTERPRISE --features f1,f2 --project P --environments dev,staging,production --tenants t1,t2

  --org O             organization slug (created when new)
  --plan PLAN         FREE, PRO or ENTERPRISE
  --features LIST     feature flags: basic_rollback, rollback, selective_rollback, rollback_approval
  --project P         the new project's slug
  --environments LIST its environments, comma-separated
  --tenants LIST      its tenants, comma-separated`,
    options: {
      org: { type: "string" },
      plan: { type: "string" },
      features: { type: "string" },
      project: { type: "string" },
      environments: { type: "string" },
      tenants: { type: "string" },
    },
    storage: "create",
    prepare(values) {
      const plan = required(values, "plan").toUpperCase();
      if (!(plan in Plan)) throw new UsageError(`--plan must be one of ${Object.keys(Plan).join(", ")}, got "${values.plan}"`);
      const list = (name: string) =>
        required(values, name)
          .split(",")
          .map((s) => s.trim())
          .filter(Boolean);
      const [org, slug, features, environments, tenants] = [required(values, "org"), required(values, "project"), list("features"), list("environments"), list("tenants")];
      return async (app) => {
        const project = await app.db.transaction(async (tx) => {
          const organization = await app.catalog.ensureOrganization(org, plan as Plan, features, tx);
          return app.catalog.createProject(tx, { organization, slug, environments, tenants });
        });
        await app.git.open(project.slug);
        console.log(`created project ${project.slug} (${project.id}); its repository is empty until the first import`);
        return 0;
      };
    },
  },
  {
    name: "project recover",
    summary: "recreate the record of a project whose repository exists (after losing the database) and rebuild its history from Git",
    usage: `--project P --org O [--plan FREE|PRO|ENTERPRISE --features f1,f2]

  --project P     the project; its repository DATA_DIR/repos/P.git must exist
  --org O         its organization (created when new; then --plan and --features are required)
  --plan PLAN     a new organization's plan
  --features LIST a new organization's feature flags: basic_rollback, rollback, selective_rollback, rollback_approval

Tenants, environments, deployments and their authors come back from the commits' trailers;
roles, tokens, approval policies, rollback requests and the audit trail lived only in the
database: grant roles again with \`token create\`.`,
    options: { project: { type: "string" }, org: { type: "string" }, plan: { type: "string" }, features: { type: "string" } },
    storage: "create",
    prepare(values) {
      const [slug, org] = [required(values, "project"), required(values, "org")];
      const given = str(values.plan)?.toUpperCase();
      if (given !== undefined && !(given in Plan)) throw new UsageError(`--plan must be one of ${Object.keys(Plan).join(", ")}, got "${values.plan}"`);
      if ((given === undefined) !== (str(values.features) === undefined)) throw new UsageError("--plan and --features go together");
      const features = str(values.features)
        ?.split(",")
        .map((f) => f.trim())
        .filter(Boolean);
      return async (app) => {
        if (!(await app.git.exists(slug))) throw new UsageError(`project "${slug}" has no repository in DATA_DIR/repos: nothing to recover`);
        await app.db.transaction(async (tx) => {
          const existing = await tx.findOneBy(Organization, { slug: org });
          if (!existing && (!given || !features)) throw new UsageError(`organization "${org}" does not exist: give its --plan and --features to create it`);
          const organization = given && features ? await app.catalog.ensureOrganization(org, given as Plan, features, tx) : existing!;
          return app.catalog.createProject(tx, { organization, slug, environments: [], tenants: [] });
        });
        const r = await app.reindexer.reindex(slug);
        console.log(`recovered project ${r.project}: ${r.deployments} deployments from ${r.commits} commits in ${r.tenantEnvironments} tenant-environments`);
        return 0;
      };
    },
  },
  {
    name: "reindex",
    summary: "rebuild the history index from Git alone",
    usage: `[--project P]

  --project P   only this project (default: every project)`,
    options: { project: { type: "string" } },
    storage: "existing",
    nothingThere: "nothing to reindex",
    prepare(values) {
      const only = values.project === undefined ? null : required(values, "project");
      return async (app) => {
        for (const slug of only ? [only] : await app.catalog.projectSlugs()) {
          const started = Date.now();
          const r = await app.reindexer.reindex(slug);
          console.log(`${r.project}: ${r.deployments} deployments from ${r.commits} commits in ${r.tenantEnvironments} tenant-environments (${Date.now() - started} ms)`);
        }
        return 0;
      };
    },
  },
  {
    name: "audit verify",
    summary: "check a project's hash-chained audit trail; exit 1 at the first broken link",
    usage: `--project P

  --project P   the project whose audit chain is checked`,
    options: { project: { type: "string" } },
    storage: "existing",
    nothingThere: "nothing to verify",
    prepare(values) {
      const slug = required(values, "project");
      return async (app) => {
        const project = await app.db.manager.findOneBy(Project, { slug });
        if (!project) throw new UsageError(`project "${slug}" not found`);
        const result = await app.audit.verify(project.id);
        if (result.ok) {
          console.log(`audit chain of ${slug}: intact (${result.checked} events)`);
          return 0;
        }
        const b = result.firstBreak!;
        console.log(`audit chain of ${slug}: BROKEN at event #${b.seq}${b.eventId ? ` (${b.eventId})` : ""}: ${b.reason}`);
        return 1;
      };
    },
  },
  {
    name: "seed demo",
    summary: "seed the demo organizations, projects, users and history into an empty database",
    usage: ``,
    options: {},
    storage: "create",
    prepare: () => async (app) => {
      const seeded = await seedDemoIfEmpty(app);
      console.log(seeded ? `seeded; tokens in ${seeded.tokensFile}` : "not seeded: the database already has projects, or DATA_DIR/repos already has repositories");
      return 0;
    },
  },
  {
    name: "watch",
    summary: "print rollback requests (or deployments) of a project live, one line per change",
    usage: `--token T --project P [--server URL] [--tenant T] [--environment E] [--id rbk-…] [--deployments] [--json]

  --server URL     the rollback server (default http://127.0.0.1:4000)
  --token T        a user token that can read the project (env ROLLBACK_TOKEN keeps it out of the process list)
  --project P      the project to watch
  --tenant T       only this tenant
  --environment E  only this environment
  --id rbk-…       only this rollback request
  --deployments    deployments instead of rollback requests
  --json           one JSON object per line`,
    options: WATCH_OPTIONS,
    storage: "none",
    prepare: (values) => {
      const watch = prepareWatch(values);
      return () => watch();
    },
  },
];

function str(value: string | boolean | undefined): string | undefined {
  return typeof value === "string" && value.trim() !== "" ? value.trim() : undefined;
}

function required(values: Values, name: string): string {
  const v = str(values[name]);
  if (!v) throw new UsageError(`--${name} is required`);
  return v;
}

function role(values: Values): Role {
  const given = required(values, "role");
  const r = given.toUpperCase();
  if (!(r in Role)) throw new UsageError(`--role must be one of ${Object.keys(Role).join(", ")}, got "${given}"`);
  return r as Role;
}

function wholeNumber(values: Values, name: string): number {
  const raw = String(values[name] ?? "");
  const n = Number(raw);
  if (!/^\d+$/.test(raw) || n < 1 || n > 36_500) throw new UsageError(`--${name} must be a whole number of days from 1 to 36500, got "${raw}"`);
  return n;
}
