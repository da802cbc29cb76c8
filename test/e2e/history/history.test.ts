import { beforeAll, describe, expect, it } from "vitest";
import { expectError } from "../../helpers/assertions.js";
import { tokenOf } from "../../helpers/demo.js";
import { fileAt } from "../../helpers/git.js";
import { type DeploymentView, fullHistory, historyPage } from "../../helpers/operations.js";
import { useTestServer } from "../../helpers/server.js";

/** Deployment history with cursors and filters, and the tenant-environment that carries it. Nothing here writes. */
describe("deployment history", () => {
  const t = useTestServer();
  let jane: string;

  beforeAll(async () => {
    jane = tokenOf(t, "jane");
  });

  describe("deploymentHistory", () => {
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
        tenantEnvironment: {
          id: string;
          name: string;
          path: string;
          currentRevision: string;
          tenant: { slug: string };
          services: { name: string; values: Record<string, unknown>; files: string[] }[];
        };
      }>(jane, `{ tenantEnvironment(project:"demo",tenant:"acme",environment:"staging"){ id name path currentRevision tenant { slug } services { name values files } } }`);
      const te = data.tenantEnvironment;
      expect(te).toMatchObject({ name: "staging", path: "tenants/acme/staging/", tenant: { slug: "acme" } });
      expect(te.currentRevision).toMatch(/^[0-9a-f]{40}$/);
      const gateway = te.services.find((s) => s.name === "api-gateway")!;
      expect(gateway.values).toMatchObject({ image: { repository: "registry.example.com/acme-corp/api-gateway" }, port: 8080 });
      // The values are the file at the current revision, parsed.
      const text = fileAt(t, te.currentRevision, "tenants/acme/staging/services/api-gateway/values.yaml");
      expect(text).toContain(`tag: "${(gateway.values.image as { tag: string }).tag}"`);
      expect(text).toContain(`replicas: ${gateway.values.replicas as number}`);
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
      const node = await t.ok<{ node: { id: string; path?: string } | null }>(jane, `query($id:ID!){ node(id:$id){ id ... on TenantEnvironment { path } } }`, {
        id: data.tenantEnvironment.id,
      });
      expect(node.node).toEqual({ id: data.tenantEnvironment.id, path: "tenants/acme/dev/" });
    });

    it("resolves a deployment by its global id through node(id)", async () => {
      const newest = (await historyPage(t, jane, "acme", "dev", { first: 1 })).edges[0]!.node;
      const node = await t.ok<{ node: { id: string; revision?: string } | null }>(jane, `query($id:ID!){ node(id:$id){ id ... on Deployment { revision } } }`, { id: newest.id });
      expect(node.node).toEqual({ id: newest.id, revision: newest.revision });
    });
  });
});
