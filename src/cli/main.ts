import "reflect-metadata";
process.env.TZ ??= "UTC";
import { parseArgs } from "node:util";
import { GraphQLError } from "graphql";
import { Plan, Role, TokenKind } from "../../entities/enums.js";
import { Project } from "../../entities/project.js";
import { createApp, type App } from "../app.js";
import { loadConfigOrExit } from "../config.js";
import { createLogger } from "../logger.js";
import { seedDemoIfEmpty } from "../seed/demo.js";
import type { Actor } from "../services/actor.js";

const USAGE = `rollback-server CLI (works on the same DATA_DIR / DATABASE_URL as the server)

  npm run cli -- token create --email E --project P --role VIEWER|DEPLOYER|APPROVER|ADMIN [--label L] [--expires-days N]
  npm run cli -- token create --agent --project P [--label L]
  npm run cli -- user create --email E [--name N] [--project P --role R]
  npm run cli -- project create --org O --plan FREE|PRO|ENTERPRISE --features f1,f2 --project P --environments dev,staging,production --tenants t1,t2
  npm run cli -- reindex [--project P]
  npm run cli -- audit verify --project P
  npm run cli -- seed demo
`;

class UsageError extends Error {}

function required(values: Record<string, unknown>, name: string): string {
  const v = values[name];
  if (typeof v !== "string" || v.trim() === "") throw new UsageError(`--${name} is required`);
  return v.trim();
}

function role(value: string): Role {
  const r = value.toUpperCase();
  if (!(r in Role)) throw new UsageError(`--role must be one of ${Object.keys(Role).join(", ")}, got "${value}"`);
  return r as Role;
}

async function run(app: App, argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      email: { type: "string" },
      name: { type: "string" },
      project: { type: "string" },
      role: { type: "string" },
      label: { type: "string" },
      agent: { type: "boolean" },
      "expires-days": { type: "string" },
      org: { type: "string" },
      plan: { type: "string" },
      features: { type: "string" },
      environments: { type: "string" },
      tenants: { type: "string" },
      json: { type: "boolean" },
      help: { type: "boolean", short: "h" },
    },
  });
  const command = positionals.join(" ");
  const operator: Actor = { kind: "system", user: null };
  if (values.help || command === "") {
    console.log(USAGE);
    return command === "" && !values.help ? 2 : 0;
  }

  switch (command) {
    case "token create": {
      const project = required(values, "project");
      const days = values["expires-days"] ? Number(values["expires-days"]) : null;
      if (days !== null && (!Number.isInteger(days) || days < 1)) throw new UsageError("--expires-days must be a whole number of days");
      const issued = values.agent
        ? await app.auth.createToken({ actor: operator, kind: TokenKind.AGENT, projectSlug: project, label: values.label })
        : await app.auth.createToken({
            actor: operator,
            kind: TokenKind.USER,
            projectSlug: project,
            email: required(values, "email"),
            role: values.role ? role(values.role) : undefined,
            label: values.label,
            expiresAt: days ? new Date(Date.now() + days * 86_400_000) : null,
          });
      if (values.json) console.log(JSON.stringify({ token: issued.token, id: issued.record.id, kind: issued.record.kind }));
      else {
        console.log(issued.token);
        console.error(`(${issued.record.kind.toLowerCase()} token ${issued.record.id} for project ${project}; shown once, stored only as a hash)`);
      }
      return 0;
    }
    case "user create": {
      const user = await app.auth.ensureUser(required(values, "email"), values.name ?? null);
      if (values.project) {
        const project = await app.db.manager.findOneBy(Project, { slug: values.project });
        if (!project) throw new UsageError(`project "${values.project}" not found`);
        await app.auth.grant(user, project, role(required(values, "role")));
      }
      console.log(`${user.id} ${user.email}${values.project ? ` (${values.role?.toUpperCase()} in ${values.project})` : ""}`);
      return 0;
    }
    case "project create": {
      const plan = required(values, "plan").toUpperCase();
      if (!(plan in Plan)) throw new UsageError(`--plan must be one of ${Object.keys(Plan).join(", ")}`);
      const list = (name: string) =>
        required(values, name)
          .split(",")
          .map((s) => s.trim())
          .filter(Boolean);
      const project = await app.db.transaction(async (tx) => {
        const org = await app.catalog.ensureOrganization(required(values, "org"), plan as Plan, list("features"), tx);
        return app.catalog.createProject(tx, { organization: org, slug: required(values, "project"), environments: list("environments"), tenants: list("tenants") });
      });
      await app.git.open(project.slug);
      console.log(`created project ${project.slug} (${project.id}); its repository is empty until the first import`);
      return 0;
    }
    case "reindex": {
      const projects = values.project ? [values.project] : await app.catalog.projectSlugs();
      for (const slug of projects) {
        const started = Date.now();
        const r = await app.reindexer.reindex(slug);
        console.log(`${r.project}: ${r.deployments} deployments from ${r.commits} commits in ${r.tenantEnvironments} tenant-environments (${Date.now() - started} ms)`);
      }
      return 0;
    }
    case "audit verify": {
      const slug = required(values, "project");
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
    }
    case "seed demo": {
      const seeded = await seedDemoIfEmpty(app);
      console.log(seeded ? `seeded; tokens in ${seeded.tokensFile}` : "not seeded: the database already has projects");
      return 0;
    }
    default:
      throw new UsageError(`unknown command "${command}"`);
  }
}

async function main(): Promise<void> {
  const config = loadConfigOrExit();
  const app = await createApp(config, createLogger(config.logLevel === "info" ? "warn" : config.logLevel));
  let code = 1;
  try {
    code = await run(app, process.argv.slice(2));
  } catch (err) {
    if (err instanceof UsageError) {
      console.error(`error: ${err.message}\n\n${USAGE}`);
      code = 2;
    } else if (err instanceof GraphQLError) {
      console.error(`error: ${err.message}`);
      code = 1;
    } else {
      throw err;
    }
  } finally {
    await app.close();
  }
  process.exit(code);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
