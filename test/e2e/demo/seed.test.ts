import { beforeAll, describe, expect, it } from "vitest";
import { ENVIRONMENTS, SERVICES, TENANTS, tokenOf } from "../../helpers/demo.js";
import { fullHistory, historyPage } from "../../helpers/operations.js";
import { useTestServer } from "../../helpers/server.js";

/** The demo a new user finds on first start: organizations, projects, users, services and weeks of history. */
describe("the demo seed as a new user sees it", () => {
  const t = useTestServer();
  let jane: string;

  beforeAll(async () => {
    jane = tokenOf(t, "jane");
  });

  it("writes a token for every demo user to DATA_DIR/demo-tokens.json", () => {
    expect(Object.keys(t.tokens).sort()).toEqual(["alice@example.com", "bob@example.com", "carol@example.com", "jane@example.com", "mallory@example.com", "victor@example.com"]);
    for (const token of Object.values(t.tokens)) expect(token).toMatch(/^\S{20,}$/);
  });

  it("has the three organizations with their plans and feature flags, one project each", async () => {
    const expected = {
      demo: { slug: "acme-corp", plan: "ENTERPRISE", features: ["basic_rollback", "rollback", "rollback_approval", "selective_rollback"] },
      pro: { slug: "midsize", plan: "PRO", features: ["basic_rollback", "rollback", "selective_rollback"] },
      starter: { slug: "startup", plan: "FREE", features: ["basic_rollback", "rollback"] },
    };
    for (const [project, org] of Object.entries(expected)) {
      const data = await t.ok<{ project: { slug: string; organization: { slug: string; plan: string; features: string[] } } }>(
        tokenOf(t, "alice"),
        `query($s:String!){ project(slug:$s){ slug organization { slug plan features } } }`,
        { s: project },
      );
      expect(data.project.slug).toBe(project);
      expect({ ...data.project.organization, features: [...data.project.organization.features].sort() }).toEqual(org);
    }
  });

  it("gives every project the environments dev, staging, production and the tenants acme and globex", async () => {
    for (const project of ["demo", "pro", "starter"]) {
      const data = await t.ok<{ project: { environments: string[]; tenants: { slug: string; environments: { name: string; path: string }[] }[] } }>(
        jane,
        `query($s:String!){ project(slug:$s){ environments tenants { slug environments { name path } } } }`,
        { s: project },
      );
      expect(data.project.environments).toEqual(["dev", "staging", "production"]);
      expect(data.project.tenants.map((x) => x.slug)).toEqual(["acme", "globex"]);
      for (const tenant of data.project.tenants) {
        expect(tenant.environments.map((e) => e.name)).toEqual(["dev", "staging", "production"]);
        expect(tenant.environments.map((e) => e.path)).toEqual(ENVIRONMENTS.map((e) => `tenants/${tenant.slug}/${e}/`));
      }
    }
  });

  it("requires one approval in production, without self-approval, and none elsewhere", async () => {
    const data = await t.ok<{ project: { approvalPolicies: { environment: string; requiredApprovals: number; allowSelfApproval: boolean }[] } }>(
      jane,
      `{ project(slug:"demo"){ approvalPolicies { environment requiredApprovals allowSelfApproval } } }`,
    );
    const byEnv = Object.fromEntries(data.project.approvalPolicies.map((p) => [p.environment, p]));
    expect(byEnv.production).toMatchObject({ requiredApprovals: 1, allowSelfApproval: false });
    expect(byEnv.staging).toMatchObject({ requiredApprovals: 0 });
    expect(byEnv.dev).toMatchObject({ requiredApprovals: 0 });
  });

  it("gives each demo user the documented role", async () => {
    const roles: Record<string, string> = {
      "jane@example.com": "DEPLOYER",
      "bob@example.com": "APPROVER",
      "carol@example.com": "APPROVER",
      "alice@example.com": "ADMIN",
      "victor@example.com": "VIEWER",
    };
    for (const [email, role] of Object.entries(roles)) {
      for (const project of ["demo", "pro", "starter"]) {
        const data = await t.ok<{ me: { email: string }; project: { viewerRole: string } }>(t.tokens[email]!, `query($s:String!){ me { email } project(slug:$s){ viewerRole } }`, {
          s: project,
        });
        expect(data.me.email).toBe(email);
        expect(data.project.viewerRole).toBe(role);
      }
    }
    const mallory = tokenOf(t, "mallory");
    const starter = await t.ok<{ project: { viewerRole: string } | null }>(mallory, `{ project(slug:"starter"){ viewerRole } }`);
    expect(starter.project?.viewerRole).toBe("DEPLOYER");
  });

  it("has the five services in every tenant-environment, with source files and a rendered manifest each", async () => {
    for (const tenant of TENANTS) {
      for (const env of ENVIRONMENTS) {
        const data = await t.ok<{ tenantEnvironment: { services: { name: string; files: string[] }[] } }>(
          jane,
          `query($t:String!,$e:String!){ tenantEnvironment(project:"demo",tenant:$t,environment:$e){ services { name files } } }`,
          { t: tenant, e: env },
        );
        expect(data.tenantEnvironment.services.map((s) => s.name)).toEqual([...SERVICES]);
        for (const svc of data.tenantEnvironment.services) {
          const dir = `tenants/${tenant}/${env}`;
          expect([...svc.files].sort()).toEqual(
            [
              `${dir}/rendered/${svc.name}.yaml`,
              `${dir}/services/${svc.name}/bindings.yaml`,
              `${dir}/services/${svc.name}/values.yaml`,
              `${dir}/services/${svc.name}/variables.yaml`,
            ].sort(),
          );
        }
      }
    }
  });

  it("has at least 25 deployments per tenant-environment, RELEASE and PROMOTION mixed, by several authors over weeks", async () => {
    const allAuthors = new Set<string>();
    for (const tenant of TENANTS) {
      for (const env of ENVIRONMENTS) {
        const history = await fullHistory(t, jane, tenant, env);
        expect(history.length, `${tenant}/${env}`).toBeGreaterThanOrEqual(25);
        const sources = new Set(history.map((d) => d.source));
        expect(sources.has("RELEASE"), `${tenant}/${env} has releases`).toBe(true);
        if (env !== "dev") expect(sources.has("PROMOTION"), `${tenant}/${env} has promotions`).toBe(true);
        const authors = new Set(history.map((d) => d.author.email));
        expect(authors.size, `${tenant}/${env} authors`).toBeGreaterThanOrEqual(2);
        authors.forEach((a) => allAuthors.add(a));
        const times = history.map((d) => new Date(d.deployedAt).getTime());
        const spanDays = (Math.max(...times) - Math.min(...times)) / 86_400_000;
        expect(spanDays, `${tenant}/${env} spans weeks`).toBeGreaterThanOrEqual(14);
        expect(Math.max(...times)).toBeLessThanOrEqual(Date.now());
      }
    }
    expect(allAuthors.size).toBeGreaterThanOrEqual(3);
  });

  it("changes image tags, replicas and variables over time", async () => {
    const paths = new Set<string>();
    for (const tenant of TENANTS) {
      for (const env of ENVIRONMENTS) {
        for (const d of await fullHistory(t, jane, tenant, env)) for (const c of d.changes) paths.add(`${c.file}:${c.path}`);
      }
    }
    expect(paths).toContain("values.yaml:image.tag");
    expect(paths).toContain("values.yaml:replicas");
    expect(paths).toContain("variables.yaml:LOG_LEVEL");
  });

  it("tells the incident story: the newest acme/production deployment is a FAILED api-gateway release", async () => {
    const page = await historyPage(t, jane, "acme", "production", { first: 1 });
    const newest = page.edges[0]!.node;
    expect(newest.source).toBe("RELEASE");
    expect(newest.status).toBe("FAILED");
    expect(newest.changes).toEqual([expect.objectContaining({ service: "api-gateway", file: "values.yaml", path: "image.tag", kind: "MODIFIED", after: "v2.1.0" })]);
  });

  it("keeps the index and Git in step: every deployment's revision is a commit whose trailers name its tenant-environment", async () => {
    const history = await fullHistory(t, jane, "globex", "staging");
    for (const d of history.slice(0, 5)) {
      const message = t.git("demo", "show", "-s", "--format=%B", d.revision);
      expect(message).toContain("Tenant: globex");
      expect(message).toContain("Environment: staging");
      expect(message).toContain(`Author: ${d.author.email}`);
      expect(message).toContain(`Source: ${d.source.toLowerCase()}`);
    }
  });
});
