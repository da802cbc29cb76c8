import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { renderFromFiles } from "../../../src/delivery/renderer.js";
import { expectError } from "../../helpers/assertions.js";
import { tokenOf } from "../../helpers/demo.js";
import { changedPaths, commitCount, commitMessage, entryId, fileAt, head, trailersOf } from "../../helpers/git.js";
import { DEPLOY, DEPLOYMENT_RECORDED, type DeploymentView, fullHistory, historyPage, type RecordedDeployment } from "../../helpers/operations.js";
import { type TestServer, useTestServer } from "../../helpers/server.js";
import { subscribe, type Subscription, warmUp } from "../../helpers/subscriptions.js";

/** The rendered manifest a commit should hold for a service: rendered from that commit's own source files. */
function expectedRendered(t: TestServer, revision: string, tenant: string, env: string, service: string): string {
  const files = new Map<string, string | null>();
  for (const name of ["values.yaml", "bindings.yaml", "variables.yaml"]) {
    try {
      files.set(name, fileAt(t, revision, `tenants/${tenant}/${env}/services/${service}/${name}`));
    } catch {
      files.set(name, null);
    }
  }
  return renderFromFiles(tenant, env, service, files);
}

/** `deploy` writes one commit with trailers, records it and publishes it. */
describe("deploy", () => {
  const t = useTestServer();
  let jane: string;
  let recorded: Subscription<RecordedDeployment>;

  const deploy = (token: string, input: Record<string, unknown>) => t.gql<{ deploy: DeploymentView }>(token, DEPLOY, { input });

  beforeAll(async () => {
    jane = tokenOf(t, "jane");
    // Subscribed to globex/dev only; proven live by the first RELEASE test's own event.
    recorded = subscribe<RecordedDeployment>(t.ws(jane), DEPLOYMENT_RECORDED, { p: "demo", t: "globex", e: "dev" }, "deploymentRecorded");
  });
  afterAll(async () => {
    recorded?.dispose();
  });

  describe("a RELEASE with set", () => {
    let headBefore: string;
    let historyBefore: DeploymentView[];
    let deployment: DeploymentView;

    beforeAll(async () => {
      // Make sure the subscription is live: a harmless deploy to globex/dev, repeated until its event arrives.
      const warmIds: string[] = [];
      await warmUp(
        recorded,
        async (n) => {
          const warm = await deploy(jane, { project: "demo", tenant: "globex", environment: "dev", service: "web", set: { "variables:WARM_UP": `w${n}` } });
          expect(warm.errors).toBeUndefined();
          warmIds.push(warm.data!.deploy.id);
        },
        (items) => items.some((e) => warmIds.includes(e.id)),
      );
      historyBefore = await fullHistory(t, jane, "globex", "dev");
      headBefore = head(t);
      const res = await deploy(jane, {
        project: "demo",
        tenant: "globex",
        environment: "dev",
        service: "api-gateway",
        source: "RELEASE",
        set: { "image.tag": "v9.9.9", replicas: 4 },
      });
      expect(res.errors, JSON.stringify(res.errors)).toBeUndefined();
      deployment = res.data!.deploy;
    });

    it("returns the deployment: RELEASE, PENDING, authored by the caller, with its field changes", () => {
      expect(deployment).toMatchObject({ source: "RELEASE", status: "PENDING", author: { email: "jane@example.com" }, rollbackRequest: null });
      expect(deployment.revision).toMatch(/^[0-9a-f]{40}$/);
      expect(deployment.summary).toContain("api-gateway");
      expect(deployment.summary).toContain("v9.9.9");
      const changes = deployment.changes.map((c) => `${c.service}|${c.file}|${c.path}|${JSON.stringify(c.after)}`).sort();
      expect(changes).toEqual(['api-gateway|values.yaml|image.tag|"v9.9.9"', "api-gateway|values.yaml|replicas|4"]);
    });

    it("writes one commit on top of the branch", () => {
      expect(head(t)).toBe(deployment.revision);
      expect(t.git("demo", "rev-parse", `${deployment.revision}^`).trim()).toBe(headBefore);
    });

    it("writes the new values into values.yaml, keeping its comments and other fields", () => {
      const before = fileAt(t, headBefore, "tenants/globex/dev/services/api-gateway/values.yaml");
      const after = fileAt(t, deployment.revision, "tenants/globex/dev/services/api-gateway/values.yaml");
      expect(after).toContain('tag: "v9.9.9"');
      expect(after).toMatch(/^replicas: 4$/m);
      expect(after).toContain("# api-gateway workload values");
      expect(after).toContain("cpu: 500m # raise with care: billed per core");
      const untouched = (text: string) => text.split("\n").filter((l) => !/^\s*tag:|^replicas:/.test(l));
      expect(untouched(after)).toEqual(untouched(before));
    });

    it("regenerates the rendered manifest in the same commit, and only the service's files change", () => {
      expect(changedPaths(t, headBefore, deployment.revision)).toEqual(["tenants/globex/dev/rendered/api-gateway.yaml", "tenants/globex/dev/services/api-gateway/values.yaml"]);
      const rendered = fileAt(t, deployment.revision, "tenants/globex/dev/rendered/api-gateway.yaml");
      expect(rendered).toContain("image: registry.example.com/acme-corp/api-gateway:v9.9.9");
      expect(rendered).toMatch(/^\s+replicas: 4$/m);
      expect(rendered).toMatch(/kind: Deployment/);
      expect(rendered).toMatch(/kind: Service/);
      expect(rendered).toBe(expectedRendered(t, deployment.revision, "globex", "dev", "api-gateway"));
    });

    it("carries the trailers a reindex needs: tenant, environment, service, source and author", () => {
      const message = commitMessage(t, deployment.revision);
      expect(message.split("\n")[0]).toBe(deployment.summary);
      expect(trailersOf(message)).toMatchObject({
        Tenant: "globex",
        Environment: "dev",
        Service: "api-gateway",
        Source: "release",
        Author: "jane@example.com",
      });
      expect(t.git("demo", "show", "-s", "--format=%ae", deployment.revision).trim()).toBe("jane@example.com");
    });

    it("records it at the top of the history and as the current revision", async () => {
      const history = await fullHistory(t, jane, "globex", "dev");
      expect(history).toHaveLength(historyBefore.length + 1);
      expect(history[0]).toEqual(deployment);
      const te = await t.ok<{ tenantEnvironment: { currentRevision: string; services: { name: string; values: { image: { tag: string }; replicas: number } }[] } }>(
        jane,
        `{ tenantEnvironment(project:"demo",tenant:"globex",environment:"dev"){ currentRevision services { name values } } }`,
      );
      expect(te.tenantEnvironment.currentRevision).toBe(deployment.revision);
      expect(te.tenantEnvironment.services.find((s) => s.name === "api-gateway")!.values).toMatchObject({ image: { tag: "v9.9.9" }, replicas: 4 });
    });

    it("publishes the deployment on deploymentRecorded", async () => {
      const items = await recorded.until((list) => list.some((e) => e.id === deployment.id));
      expect(items.find((e) => e.id === deployment.id)).toMatchObject({
        revision: deployment.revision,
        source: "RELEASE",
        status: "PENDING",
        summary: deployment.summary,
        author: { email: "jane@example.com" },
      });
    });

    it("uses the caller's summary when one is given", async () => {
      const res = await deploy(jane, {
        project: "demo",
        tenant: "globex",
        environment: "dev",
        service: "billing",
        set: { replicas: 3 },
        summary: "Scale billing for the month-end run",
      });
      expect(res.errors).toBeUndefined();
      expect(res.data!.deploy.summary).toBe("Scale billing for the month-end run");
      expect(commitMessage(t, res.data!.deploy.revision).split("\n")[0]).toBe("Scale billing for the month-end run");
    });

    it("sets a service variable with the variables: prefix and renders it", async () => {
      const res = await deploy(jane, { project: "demo", tenant: "globex", environment: "dev", service: "auth", set: { "variables:LOG_LEVEL": "trace" } });
      expect(res.errors).toBeUndefined();
      const rev = res.data!.deploy.revision;
      expect(res.data!.deploy.changes).toEqual([expect.objectContaining({ service: "auth", file: "variables.yaml", path: "LOG_LEVEL", after: "trace" })]);
      expect(fileAt(t, rev, "tenants/globex/dev/services/auth/variables.yaml")).toMatch(/^LOG_LEVEL: trace$/m);
      expect(fileAt(t, rev, "tenants/globex/dev/rendered/auth.yaml")).toBe(expectedRendered(t, rev, "globex", "dev", "auth"));
    });
  });

  describe("a PROMOTION with fromEnvironment", () => {
    let release: DeploymentView;
    let promotion: DeploymentView;
    let headBefore: string;

    beforeAll(async () => {
      const rel = await deploy(jane, { project: "demo", tenant: "globex", environment: "dev", service: "worker", set: { "image.tag": "v7.0.0", replicas: 2 } });
      expect(rel.errors).toBeUndefined();
      release = rel.data!.deploy;
      headBefore = head(t);
      const res = await deploy(tokenOf(t, "bob"), {
        project: "demo",
        tenant: "globex",
        environment: "staging",
        service: "worker",
        source: "PROMOTION",
        fromEnvironment: "dev",
      });
      expect(res.errors, JSON.stringify(res.errors)).toBeUndefined();
      promotion = res.data!.deploy;
    });

    it("returns a PROMOTION deployment authored by the caller", () => {
      expect(promotion).toMatchObject({ source: "PROMOTION", status: "PENDING", author: { email: "bob@example.com" } });
      expect(promotion.summary).toContain("worker");
      expect(promotion.changes).toContainEqual(expect.objectContaining({ service: "worker", file: "values.yaml", path: "image.tag", after: "v7.0.0" }));
    });

    it("copies the service's files from the source environment byte for byte", () => {
      expect(entryId(t, promotion.revision, "tenants/globex/staging/services/worker")).toBe(entryId(t, release.revision, "tenants/globex/dev/services/worker"));
    });

    it("renders the promoted service's manifest for the target environment in the same commit", () => {
      expect(changedPaths(t, headBefore, promotion.revision).every((p) => p.startsWith("tenants/globex/staging/"))).toBe(true);
      expect(changedPaths(t, headBefore, promotion.revision)).toContain("tenants/globex/staging/rendered/worker.yaml");
      const rendered = fileAt(t, promotion.revision, "tenants/globex/staging/rendered/worker.yaml");
      expect(rendered).toContain("namespace: globex-staging");
      expect(rendered).not.toContain("namespace: globex-dev");
      expect(rendered).toContain("worker:v7.0.0");
      expect(rendered).toBe(expectedRendered(t, promotion.revision, "globex", "staging", "worker"));
    });

    it("carries Source: promotion and the environment it came from in its trailers", () => {
      expect(trailersOf(commitMessage(t, promotion.revision))).toMatchObject({
        Tenant: "globex",
        Environment: "staging",
        Service: "worker",
        Source: "promotion",
        "Promoted-From": "dev",
        Author: "bob@example.com",
      });
    });

    it("records it at the top of the target environment's history, filterable by source", async () => {
      const page = await historyPage(t, jane, "globex", "staging", { first: 1, source: "PROMOTION" });
      expect(page.edges[0]!.node).toEqual(promotion);
    });
  });

  describe("refused deployments write nothing", () => {
    let headBefore: string;
    let commits: number;

    beforeEach(() => {
      headBefore = head(t);
      commits = commitCount(t);
    });

    const unchanged = () => {
      expect(head(t)).toBe(headBefore);
      expect(commitCount(t)).toBe(commits);
    };

    it("refuses an unknown service with BAD_USER_INPUT 400", async () => {
      const error = expectError(await deploy(jane, { project: "demo", tenant: "globex", environment: "dev", service: "payments", set: { replicas: 2 } }), "BAD_USER_INPUT", 400);
      expect(error.message).toContain("payments");
      unchanged();
    });

    it("refuses a RELEASE without set with BAD_USER_INPUT 400", async () => {
      expectError(await deploy(jane, { project: "demo", tenant: "globex", environment: "dev", service: "web" }), "BAD_USER_INPUT", 400, /set/);
      expectError(await deploy(jane, { project: "demo", tenant: "globex", environment: "dev", service: "web", set: {} }), "BAD_USER_INPUT", 400, /set/);
      unchanged();
    });

    it("refuses a RELEASE whose set is not an object with BAD_USER_INPUT 400", async () => {
      expectError(await deploy(jane, { project: "demo", tenant: "globex", environment: "dev", service: "web", set: ["replicas", 2] }), "BAD_USER_INPUT", 400);
      unchanged();
    });

    it("refuses a RELEASE that changes nothing with BAD_USER_INPUT 400", async () => {
      const te = await t.ok<{ tenantEnvironment: { services: { name: string; values: { replicas: number } }[] } }>(
        jane,
        `{ tenantEnvironment(project:"demo",tenant:"globex",environment:"dev"){ services { name values } } }`,
      );
      const replicas = te.tenantEnvironment.services.find((s) => s.name === "web")!.values.replicas;
      expectError(await deploy(jane, { project: "demo", tenant: "globex", environment: "dev", service: "web", set: { replicas } }), "BAD_USER_INPUT", 400);
      unchanged();
    });

    it("refuses a field path that runs through a scalar value (replicas.max) as malformed input, BAD_USER_INPUT 400", async () => {
      // values.yaml has `replicas: <number>`: there is no replicas.max to set.
      const res = await deploy(jane, { project: "demo", tenant: "globex", environment: "dev", service: "web", set: { "replicas.max": 5 } });
      const error = expectError(res, "BAD_USER_INPUT", 400);
      expect(error.message).toContain("replicas.max");
      unchanged();
    });

    it("refuses a field in a file the service does not have (the typo variable:LOG_LEVEL) with BAD_USER_INPUT 400", async () => {
      // A service has values.yaml, bindings.yaml and variables.yaml; variable.yaml would be a new file the generator never reads.
      const res = await deploy(jane, { project: "demo", tenant: "globex", environment: "dev", service: "web", set: { "variable:LOG_LEVEL": "debug" } });
      expectError(res, "BAD_USER_INPUT", 400);
      unchanged();
    });

    it("refuses a PROMOTION without fromEnvironment with BAD_USER_INPUT 400", async () => {
      expectError(await deploy(jane, { project: "demo", tenant: "globex", environment: "staging", service: "web", source: "PROMOTION" }), "BAD_USER_INPUT", 400, /fromEnvironment/);
      unchanged();
    });

    it("answers NOT_FOUND 404 for a PROMOTION from an environment that does not exist", async () => {
      expectError(await deploy(jane, { project: "demo", tenant: "globex", environment: "staging", service: "web", source: "PROMOTION", fromEnvironment: "qa" }), "NOT_FOUND", 404);
      unchanged();
    });

    it("refuses source ROLLBACK on deploy with BAD_USER_INPUT 400", async () => {
      expectError(await deploy(jane, { project: "demo", tenant: "globex", environment: "dev", service: "web", source: "ROLLBACK", set: { replicas: 9 } }), "BAD_USER_INPUT", 400);
      unchanged();
    });

    it("answers NOT_FOUND 404 for an unknown project, tenant or environment", async () => {
      for (const where of [
        { project: "nope", tenant: "globex", environment: "dev" },
        { project: "demo", tenant: "initech", environment: "dev" },
        { project: "demo", tenant: "globex", environment: "qa" },
      ]) {
        expectError(await deploy(jane, { ...where, service: "web", set: { replicas: 9 } }), "NOT_FOUND", 404);
      }
      unchanged();
    });

    it("refuses a VIEWER with FORBIDDEN 403", async () => {
      expectError(await deploy(tokenOf(t, "victor"), { project: "demo", tenant: "globex", environment: "dev", service: "web", set: { replicas: 9 } }), "FORBIDDEN", 403);
      unchanged();
    });
  });
});
