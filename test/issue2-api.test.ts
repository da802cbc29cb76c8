import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestServer, type TestServer } from "./helpers/harness.js";
import {
  COMPARE,
  ENVIRONMENTS,
  SERVICES,
  TENANTS,
  expectError,
  fileAt,
  fullHistory,
  head,
  historyPage,
  preview,
  rollbackRequestCount,
  treeId,
  type ComparisonView,
  type DeploymentView,
  type PreviewView,
} from "./helpers/issue2.js";

/**
 * Issue 2, read side: the demo a new user finds, deployment history with cursors and filters,
 * tenant-environments, revision comparison and the FULL rollback preview. Nothing here writes.
 */
describe("issue 2: the demo, history, comparison and preview over GraphQL", () => {
  let t: TestServer;
  let jane: string;

  beforeAll(async () => {
    t = await startTestServer();
    jane = t.tokens["jane@example.com"]!;
  });
  afterAll(async () => {
    await t?.stop();
  });

  describe("the demo seed as a new user sees it", () => {
    it("writes a token for every demo user to DATA_DIR/demo-tokens.json", () => {
      expect(Object.keys(t.tokens).sort()).toEqual(
        ["alice@example.com", "bob@example.com", "carol@example.com", "jane@example.com", "mallory@example.com", "victor@example.com"],
      );
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
          t.tokens["alice@example.com"]!,
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
          const data = await t.ok<{ me: { email: string }; project: { viewerRole: string } }>(
            t.tokens[email]!,
            `query($s:String!){ me { email } project(slug:$s){ viewerRole } }`,
            { s: project },
          );
          expect(data.me.email).toBe(email);
          expect(data.project.viewerRole).toBe(role);
        }
      }
      const mallory = t.tokens["mallory@example.com"]!;
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
      expect(newest.changes).toEqual([
        expect.objectContaining({ service: "api-gateway", file: "values.yaml", path: "image.tag", kind: "MODIFIED", after: "v2.1.0" }),
      ]);
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

  describe("deployment history", () => {
    it("returns the newest deployments first with a totalCount, in pages of `first`", async () => {
      const page = await historyPage(t, jane, "acme", "production", { first: 5 });
      expect(page.edges).toHaveLength(5);
      expect(page.nodes.map((n) => n.id)).toEqual(page.edges.map((e) => e.node.id));
      expect(page.totalCount).toBeGreaterThanOrEqual(25);
      expect(page.pageInfo).toMatchObject({ hasNextPage: true, hasPreviousPage: false });
      expect(page.pageInfo.startCursor).toBe(page.edges[0]!.cursor);
      expect(page.pageInfo.endCursor).toBe(page.edges[4]!.cursor);
      const times = page.edges.map((e) => new Date(e.node.deployedAt).getTime());
      expect([...times].sort((a, b) => b - a)).toEqual(times);
      const data = await t.ok<{ tenantEnvironment: { currentRevision: string } }>(
        jane,
        `{ tenantEnvironment(project:"demo",tenant:"acme",environment:"production"){ currentRevision } }`,
      );
      expect(page.edges[0]!.node.revision).toBe(data.tenantEnvironment.currentRevision);
    });

    it("walks every page with endCursor without duplicates or gaps, and the last page says there is no next page", async () => {
      const all = (await historyPage(t, jane, "acme", "staging", { first: 500 })).edges.map((e) => e.node.id);
      const seen: string[] = [];
      let after: string | null = null;
      let pages = 0;
      for (;;) {
        const page: Awaited<ReturnType<typeof historyPage>> = await historyPage(t, jane, "acme", "staging", { first: 4, after });
        pages++;
        expect(page.totalCount).toBe(all.length);
        expect(page.pageInfo.hasPreviousPage).toBe(after !== null);
        seen.push(...page.edges.map((e) => e.node.id));
        if (!page.pageInfo.hasNextPage) break;
        expect(page.edges).toHaveLength(4);
        after = page.pageInfo.endCursor;
      }
      expect(pages).toBe(Math.ceil(all.length / 4));
      expect(new Set(seen).size).toBe(seen.length);
      expect(seen).toEqual(all);
    });

    it("gives each deployment a revision, short revision, author, summary, source, status and field changes", async () => {
      const page = await historyPage(t, jane, "globex", "dev", { first: 10 });
      for (const { node } of page.edges) {
        expect(node.revision).toMatch(/^[0-9a-f]{40}$/);
        expect(node.shortRevision).toBe(node.revision.slice(0, 7));
        expect(node.id).toBeTruthy();
        expect(node.author.email).toMatch(/@example\.com$/);
        expect(node.summary.length).toBeGreaterThan(0);
        expect(["RELEASE", "PROMOTION"]).toContain(node.source);
        expect(["PENDING", "SUCCESS", "FAILED"]).toContain(node.status);
        expect(node.changes.length).toBeGreaterThan(0);
        expect(node.rollbackRequest).toBeNull();
        expect(Number.isNaN(new Date(node.deployedAt).getTime())).toBe(false);
      }
    });

    it("describes a deployment's changes against the previous deployment of the same tenant-environment", async () => {
      const page = await historyPage(t, jane, "acme", "dev", { first: 2 });
      const [newest, previous] = page.edges.map((e) => e.node) as [DeploymentView, DeploymentView];
      for (const change of newest.changes) {
        expect(change.service).not.toBeNull();
        const file = `tenants/acme/dev/services/${change.service}/${change.file}`;
        const after = fileAt(t, newest.revision, file);
        const before = fileAt(t, previous.revision, file);
        expect(after).not.toBe(before);
      }
    });

    it("filters by source, with a totalCount of the filtered list", async () => {
      const all = await fullHistory(t, jane, "acme", "staging");
      for (const source of ["RELEASE", "PROMOTION"]) {
        const filtered = await fullHistory(t, jane, "acme", "staging", { source, pageSize: 3 });
        expect(filtered.length).toBeGreaterThan(0);
        expect(filtered.every((d) => d.source === source)).toBe(true);
        expect(filtered.map((d) => d.id)).toEqual(all.filter((d) => d.source === source).map((d) => d.id));
        expect((await historyPage(t, jane, "acme", "staging", { first: 1, source })).totalCount).toBe(filtered.length);
      }
      expect((await historyPage(t, jane, "acme", "staging", { first: 5, source: "ROLLBACK" })).totalCount).toBe(0);
    });

    it("filters by status, with a totalCount of the filtered list", async () => {
      const all = await fullHistory(t, jane, "acme", "production");
      for (const status of ["SUCCESS", "FAILED"]) {
        const filtered = await fullHistory(t, jane, "acme", "production", { status, pageSize: 4 });
        expect(filtered.map((d) => d.id)).toEqual(all.filter((d) => d.status === status).map((d) => d.id));
        expect((await historyPage(t, jane, "acme", "production", { first: 1, status })).totalCount).toBe(filtered.length);
      }
      expect((await historyPage(t, jane, "acme", "production", { first: 1, status: "FAILED" })).totalCount).toBe(1);
    });

    it("combines the source and status filters", async () => {
      const all = await fullHistory(t, jane, "acme", "production");
      const filtered = await fullHistory(t, jane, "acme", "production", { source: "PROMOTION", status: "SUCCESS", pageSize: 7 });
      expect(filtered.map((d) => d.id)).toEqual(all.filter((d) => d.source === "PROMOTION" && d.status === "SUCCESS").map((d) => d.id));
    });

    it("pages through a filtered list with cursors", async () => {
      const filtered = await fullHistory(t, jane, "acme", "staging", { source: "PROMOTION" });
      const paged = await fullHistory(t, jane, "acme", "staging", { source: "PROMOTION", pageSize: 2 });
      expect(paged.map((d) => d.id)).toEqual(filtered.map((d) => d.id));
    });

    it("answers first: 0 with the totalCount and no edges", async () => {
      const page = await historyPage(t, jane, "acme", "staging", { first: 0 });
      expect(page.edges).toEqual([]);
      expect(page.totalCount).toBeGreaterThanOrEqual(25);
    });

    it("refuses a cursor it did not issue with BAD_USER_INPUT 400", async () => {
      const res = await t.gql(jane, `{ deploymentHistory(project:"demo",tenant:"acme",environment:"staging",after:"not-a-cursor"){ totalCount } }`);
      expectError(res, "BAD_USER_INPUT", 400);
    });

    it("refuses a negative page size with BAD_USER_INPUT 400", async () => {
      const res = await t.gql(jane, `{ deploymentHistory(project:"demo",tenant:"acme",environment:"staging",first:-1){ totalCount } }`);
      expectError(res, "BAD_USER_INPUT", 400);
    });

    it("refuses an unknown source value as malformed input (400)", async () => {
      const res = await t.gql(jane, `{ deploymentHistory(project:"demo",tenant:"acme",environment:"staging",source:HOTFIX){ totalCount } }`);
      expect(res.errors?.[0]?.extensions?.status).toBe(400);
    });
  });

  describe("tenantEnvironment", () => {
    it("shows the services at the current revision with their parsed values and files", async () => {
      const data = await t.ok<{
        tenantEnvironment: { id: string; name: string; path: string; currentRevision: string; tenant: { slug: string }; services: { name: string; values: Record<string, unknown>; files: string[] }[] };
      }>(jane, `{ tenantEnvironment(project:"demo",tenant:"acme",environment:"staging"){ id name path currentRevision tenant { slug } services { name values files } } }`);
      const te = data.tenantEnvironment;
      expect(te).toMatchObject({ name: "staging", path: "tenants/acme/staging/", tenant: { slug: "acme" } });
      expect(te.currentRevision).toMatch(/^[0-9a-f]{40}$/);
      const gateway = te.services.find((s) => s.name === "api-gateway")!;
      expect(gateway.values).toMatchObject({ image: { repository: "registry.example.com/acme-corp/api-gateway" }, port: 8080 });
      // The values are the file at the current revision, parsed.
      const text = fileAt(t, te.currentRevision, "tenants/acme/staging/services/api-gateway/values.yaml");
      expect(text).toContain(`tag: "${(gateway.values.image as { tag: string }).tag}"`);
      expect(text).toContain(`replicas: ${gateway.values.replicas}`);
    });

    it("has currentRevision equal to the newest deployment of its history field", async () => {
      const data = await t.ok<{ tenantEnvironment: { currentRevision: string; history: { totalCount: number; nodes: { revision: string }[] } } }>(
        jane,
        `{ tenantEnvironment(project:"demo",tenant:"globex",environment:"production"){ currentRevision history(first: 3) { totalCount nodes { revision } } } }`,
      );
      const te = data.tenantEnvironment;
      expect(te.history.nodes).toHaveLength(3);
      expect(te.history.nodes[0]!.revision).toBe(te.currentRevision);
      expect(te.history.totalCount).toBe((await historyPage(t, jane, "globex", "production", { first: 0 })).totalCount);
    });

    it("filters its history field by source like deploymentHistory", async () => {
      const data = await t.ok<{ tenantEnvironment: { history: { nodes: { id: string; source: string }[] } } }>(
        jane,
        `{ tenantEnvironment(project:"demo",tenant:"globex",environment:"staging"){ history(first: 100, source: PROMOTION) { nodes { id source } } } }`,
      );
      const expected = await fullHistory(t, jane, "globex", "staging", { source: "PROMOTION" });
      expect(data.tenantEnvironment.history.nodes.map((n) => n.id)).toEqual(expected.map((d) => d.id));
    });

    it("is reachable again by its global id through node(id)", async () => {
      const data = await t.ok<{ tenantEnvironment: { id: string } }>(jane, `{ tenantEnvironment(project:"demo",tenant:"acme",environment:"dev"){ id } }`);
      const node = await t.ok<{ node: { id: string; path?: string } | null }>(
        jane,
        `query($id:ID!){ node(id:$id){ id ... on TenantEnvironment { path } } }`,
        { id: data.tenantEnvironment.id },
      );
      expect(node.node).toEqual({ id: data.tenantEnvironment.id, path: "tenants/acme/dev/" });
    });

    it("resolves a deployment by its global id through node(id)", async () => {
      const newest = (await historyPage(t, jane, "acme", "dev", { first: 1 })).edges[0]!.node;
      const node = await t.ok<{ node: { id: string; revision?: string } | null }>(
        jane,
        `query($id:ID!){ node(id:$id){ id ... on Deployment { revision } } }`,
        { id: newest.id },
      );
      expect(node.node).toEqual({ id: newest.id, revision: newest.revision });
    });
  });

  describe("compareRevisions", () => {
    let history: DeploymentView[];
    let comparison: ComparisonView;

    beforeAll(async () => {
      history = await fullHistory(t, jane, "acme", "staging");
      const data = await t.ok<{ compareRevisions: ComparisonView }>(jane, COMPARE, { p: "demo", t: "acme", e: "staging", target: history[10]!.revision });
      comparison = data.compareRevisions;
    });

    it("defaults the base to the current revision", () => {
      expect(comparison).toMatchObject({ tenant: "acme", environment: "staging", base: history[0]!.revision, target: history[10]!.revision });
    });

    it("lists per-service field changes that match the files at both revisions", () => {
      expect(comparison.services.length).toBeGreaterThan(0);
      for (const svc of comparison.services) {
        for (const change of svc.changes) {
          expect(change.service).toBe(svc.service);
          if (change.file !== "values.yaml" || change.kind !== "MODIFIED") continue;
          const before = fileAt(t, comparison.base, `tenants/acme/staging/services/${svc.service}/values.yaml`);
          const after = fileAt(t, comparison.target, `tenants/acme/staging/services/${svc.service}/values.yaml`);
          const leaf = change.path.split(".").pop()!;
          expect(before).toMatch(new RegExp(`${leaf}: "?${String(change.before)}"?`));
          expect(after).toMatch(new RegExp(`${leaf}: "?${String(change.after)}"?`));
        }
      }
    });

    it("covers exactly the files Git says differ, each with a unified diff", () => {
      const gitPaths = t
        .git("demo", "diff", "--name-only", comparison.base, comparison.target, "--", "tenants/acme/staging")
        .split("\n")
        .filter(Boolean)
        .sort();
      const files = comparison.services.flatMap((s) => s.files);
      expect(files.map((f) => f.path).sort()).toEqual(gitPaths);
      for (const f of files) {
        expect(f.kind).toBe("MODIFIED");
        expect(f.patch).toContain(`--- a/${f.path}`);
        expect(f.patch).toContain(`+++ b/${f.path}`);
        expect(f.patch).toMatch(/^@@ -\d+(,\d+)? \+\d+(,\d+)? @@/m);
        expect(f.patch).toMatch(/^-[^-]/m);
        expect(f.patch).toMatch(/^\+[^+]/m);
      }
    });

    it("shows the rendered manifest of a changed service changing with it", () => {
      for (const svc of comparison.services) {
        expect(svc.files.map((f) => f.path)).toContain(`tenants/acme/staging/rendered/${svc.service}.yaml`);
      }
    });

    it("counts the impact: services, fields and files", () => {
      const fieldCount = comparison.services.reduce((n, s) => n + s.changes.length, 0) + comparison.environmentChanges.length;
      expect(comparison.impact).toMatchObject({
        services: comparison.services.length,
        fields: fieldCount,
        files: comparison.services.reduce((n, s) => n + s.files.length, 0),
      });
      const bindings = comparison.services.flatMap((s) => s.changes).filter((c) => c.file === "bindings.yaml").length;
      expect(comparison.impact.bindings).toBe(bindings);
      const variables =
        comparison.services.flatMap((s) => s.changes).filter((c) => c.file === "variables.yaml").length +
        comparison.environmentChanges.filter((c) => c.file === "env.yaml" && c.path.startsWith("variables.")).length;
      expect(comparison.impact.variables).toBe(variables);
    });

    it("is empty when comparing the current revision with itself", async () => {
      const data = await t.ok<{ compareRevisions: ComparisonView }>(jane, COMPARE, { p: "demo", t: "acme", e: "staging", target: history[0]!.revision });
      expect(data.compareRevisions.services).toEqual([]);
      expect(data.compareRevisions.environmentChanges).toEqual([]);
      expect(data.compareRevisions.impact).toEqual({ services: 0, bindings: 0, variables: 0, fields: 0, files: 0 });
    });

    it("takes an explicit base, and swapping base and target swaps before and after", async () => {
      const forward = comparison;
      const data = await t.ok<{ compareRevisions: ComparisonView }>(jane, COMPARE, {
        p: "demo",
        t: "acme",
        e: "staging",
        target: history[0]!.revision,
        base: history[10]!.revision,
      });
      const backward = data.compareRevisions;
      expect(backward.base).toBe(history[10]!.revision);
      expect(backward.target).toBe(history[0]!.revision);
      const flip = (c: { service: string | null; file: string; path: string; kind: string; before: unknown; after: unknown }) => ({ ...c, before: c.after, after: c.before });
      const norm = (list: { service: string | null; file: string; path: string; kind: string; before: unknown; after: unknown }[]) =>
        list.map(({ kind: _kind, ...rest }) => rest).sort((a, b) => `${a.service}${a.file}${a.path}`.localeCompare(`${b.service}${b.file}${b.path}`));
      expect(norm(backward.services.flatMap((s) => s.changes))).toEqual(norm(forward.services.flatMap((s) => s.changes).map(flip)));
      expect(backward.impact).toEqual(forward.impact);
    });

    it("accepts an abbreviated revision", async () => {
      const data = await t.ok<{ compareRevisions: ComparisonView }>(jane, COMPARE, { p: "demo", t: "acme", e: "staging", target: history[10]!.shortRevision });
      expect(data.compareRevisions.target).toBe(history[10]!.revision);
      expect(data.compareRevisions.impact).toEqual(comparison.impact);
    });

    it("refuses a revision that is not a commit with BAD_USER_INPUT 400", async () => {
      for (const target of ["deadbeefdeadbeefdeadbeefdeadbeefdeadbeef", "not-a-sha"]) {
        const res = await t.gql(jane, COMPARE, { p: "demo", t: "acme", e: "staging", target });
        expectError(res, "BAD_USER_INPUT", 400, /revision/i);
      }
    });

    it("refuses a bad base revision with BAD_USER_INPUT 400", async () => {
      const res = await t.gql(jane, COMPARE, { p: "demo", t: "acme", e: "staging", target: history[3]!.revision, base: "0000000000000000000000000000000000000000" });
      expectError(res, "BAD_USER_INPUT", 400, /revision/i);
    });

    it("refuses an empty target with BAD_USER_INPUT 400", async () => {
      const res = await t.gql(jane, COMPARE, { p: "demo", t: "acme", e: "staging", target: "" });
      expectError(res, "BAD_USER_INPUT", 400);
    });

    it("answers NOT_FOUND 404 for an unknown tenant or environment", async () => {
      expectError(await t.gql(jane, COMPARE, { p: "demo", t: "initech", e: "staging", target: history[3]!.revision }), "NOT_FOUND", 404);
      expectError(await t.gql(jane, COMPARE, { p: "demo", t: "acme", e: "qa", target: history[3]!.revision }), "NOT_FOUND", 404);
    });
  });

  describe("previewRollback (FULL)", () => {
    let history: DeploymentView[];
    let result: PreviewView;
    let headBefore: string;
    let requestsBefore: number;

    beforeAll(async () => {
      history = await fullHistory(t, jane, "acme", "staging");
      headBefore = head(t);
      requestsBefore = await rollbackRequestCount(t, jane);
      const res = await preview(t, jane, { project: "demo", tenant: "acme", environment: "staging", mode: "FULL", targetSha: history[10]!.revision });
      expect(res.errors).toBeUndefined();
      result = res.data!.previewRollback;
    });

    it("names the mode, the target and the revision it was computed against", () => {
      expect(result).toMatchObject({ mode: "FULL", targetSha: history[10]!.revision, baseSha: history[0]!.revision });
    });

    it("shows blast radius HIGH and no approval needed in staging", () => {
      expect(result).toMatchObject({ blastRadius: "HIGH", approvalRequired: false, requiredApprovals: 0, breakGlassActive: false });
    });

    it("shows the same per-service changes, diffs and impact as comparing the current revision with the target", async () => {
      const data = await t.ok<{ compareRevisions: ComparisonView }>(jane, COMPARE, { p: "demo", t: "acme", e: "staging", target: history[10]!.revision });
      expect(result.services).toEqual(data.compareRevisions.services);
      expect(result.environmentChanges).toEqual(data.compareRevisions.environmentChanges);
      expect(result.impact).toEqual(data.compareRevisions.impact);
      expect(result.impact.services).toBeGreaterThan(0);
    });

    it("writes nothing: the branch head, the history and the rollback requests are unchanged", async () => {
      expect(head(t)).toBe(headBefore);
      expect((await fullHistory(t, jane, "acme", "staging")).map((d) => `${d.id}:${d.status}`)).toEqual(history.map((d) => `${d.id}:${d.status}`));
      expect(await rollbackRequestCount(t, jane)).toBe(requestsBefore);
    });

    it("says production needs one approval", async () => {
      const prod = await fullHistory(t, jane, "acme", "production");
      const res = await preview(t, jane, { project: "demo", tenant: "acme", environment: "production", mode: "FULL", targetSha: prod[1]!.revision });
      expect(res.errors).toBeUndefined();
      expect(res.data!.previewRollback).toMatchObject({ approvalRequired: true, requiredApprovals: 1, blastRadius: "HIGH" });
      // The bad api-gateway tag is what rolling back one deployment undoes.
      const gateway = res.data!.previewRollback.services.find((s) => s.service === "api-gateway")!;
      expect(gateway.changes).toContainEqual(expect.objectContaining({ path: "image.tag", before: "v2.1.0" }));
    });

    it("is open to a VIEWER", async () => {
      const res = await preview(t, t.tokens["victor@example.com"]!, { project: "demo", tenant: "acme", environment: "staging", mode: "FULL", targetSha: history[5]!.revision });
      expect(res.errors).toBeUndefined();
      expect(res.data!.previewRollback.targetSha).toBe(history[5]!.revision);
    });

    it("accepts an abbreviated target revision and reports the full sha", async () => {
      const res = await preview(t, jane, { project: "demo", tenant: "acme", environment: "staging", mode: "FULL", targetSha: history[10]!.shortRevision });
      expect(res.errors).toBeUndefined();
      expect(res.data!.previewRollback.targetSha).toBe(history[10]!.revision);
    });

    it("previews the rollback whose result is the target's directory", () => {
      // Every file the preview lists differs between the current and the target directory, and nothing else does.
      const listed = result.services.flatMap((s) => s.files.map((f) => f.path)).sort();
      const differing = t
        .git("demo", "diff", "--name-only", history[0]!.revision, history[10]!.revision, "--", "tenants/acme/staging")
        .split("\n")
        .filter(Boolean)
        .sort();
      expect(listed).toEqual(differing);
      expect(treeId(t, history[10]!.revision, "tenants/acme/staging")).not.toBe(treeId(t, history[0]!.revision, "tenants/acme/staging"));
    });
  });
});
