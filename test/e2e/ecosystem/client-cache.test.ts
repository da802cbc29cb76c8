/**
 * Apollo Client 4's InMemoryCache normalises by `__typename` and `id`: a syncStatusChanged event,
 * a refetch of a sync status elsewhere, a changed approval policy, reviews and notes all land on
 * the one cached object the tenant-environment points to, so a page showing it updates without
 * refetching it.
 */
import { ApolloClient, gql, HttpLink, InMemoryCache, split } from "@apollo/client";
import { GraphQLWsLink } from "@apollo/client/link/subscriptions";
import { getMainDefinition } from "@apollo/client/utilities";
import { Kind, OperationTypeNode } from "graphql";
import { describe, expect, it } from "vitest";
import { eventually } from "../../helpers/assertions.js";
import { tokenOf } from "../../helpers/demo.js";
import { agentToken } from "../../helpers/fixtures.js";
import { mustRequest, REPORT_SYNC, revisionBack, TEST_JUSTIFICATION } from "../../helpers/operations.js";
import { useTestServer, type TestServer } from "../../helpers/server.js";

const TENANT_ENVIRONMENT = gql`
  query TenantEnvironmentSync($t: String!, $e: String!) {
    tenantEnvironment(project: "demo", tenant: $t, environment: $e) {
      id
      name
      sync {
        id
        state
        health
        agent
        revision
      }
      approvalPolicy {
        id
        requiredApprovals
        allowSelfApproval
      }
    }
  }
`;
type TenantEnvironmentSync = {
  tenantEnvironment: {
    id: string;
    name: string;
    sync: { id: string; state: string; health: string | null; agent: string; revision: string | null };
    approvalPolicy: { id: string; requiredApprovals: number; allowSelfApproval: boolean };
  };
};

const SYNC_CHANGED = gql`
  subscription SyncChanged($t: String, $e: String) {
    syncStatusChanged(project: "demo", tenant: $t, environment: $e) {
      id
      state
      health
      agent
      revision
      tenantEnvironment {
        id
      }
    }
  }
`;

/** An Apollo Client as the console would set one up: queries over HTTP, subscriptions over graphql-ws, one InMemoryCache. */
function apollo(t: TestServer, token: string) {
  const http = new HttpLink({ uri: t.graphqlUrl, headers: { authorization: `Bearer ${token}` } });
  const ws = new GraphQLWsLink(t.ws(token));
  const link = split(
    ({ query }) => {
      const def = getMainDefinition(query);
      return def.kind === Kind.OPERATION_DEFINITION && def.operation === OperationTypeNode.SUBSCRIPTION;
    },
    ws,
    http,
  );
  return new ApolloClient({ link, cache: new InMemoryCache() });
}

/** A sync report sent by the cluster agent with plain fetch, so that only the server's answer to the Apollo client can reach its cache. */
async function report(t: TestServer, agent: string, tenant: string, environment: string, revision: string, health: string) {
  await t.ok(agent, REPORT_SYNC, { i: { project: "demo", tenant, environment, revision, state: "OUT_OF_SYNC", health, drift: [] } });
}

describe("Apollo Client's cache and the server's ids", () => {
  const t = useTestServer();

  it("a syncStatusChanged event updates the tenant-environment's cached sync status (normalised by id)", async () => {
    const jane = tokenOf(t, "jane");
    const agent = await agentToken(t);
    const revision = await revisionBack(t, jane, "acme", "dev", 0);
    const client = apollo(t, jane);
    const first = await client.query<TenantEnvironmentSync>({ query: TENANT_ENVIRONMENT, variables: { t: "acme", e: "dev" } });
    const te = first.data!.tenantEnvironment;
    expect(te.sync.id).toMatch(/^sync_/);

    const events: unknown[] = [];
    const subscription = client.subscribe({ query: SYNC_CHANGED, variables: { t: "acme", e: "dev" } }).subscribe({ next: (e) => events.push(e) });
    try {
      // Reported until the subscription (live a moment after subscribe) has carried one into the cache.
      let n = 0;
      await eventually(async () => {
        await report(t, agent, "acme", "dev", revision, `Progressing-${++n}`);
        const cached = client.readQuery<TenantEnvironmentSync>({ query: TENANT_ENVIRONMENT, variables: { t: "acme", e: "dev" } });
        return cached?.tenantEnvironment.sync.health?.startsWith("Progressing") ? cached : undefined;
      }, "the event in the cache");
      expect(events.length).toBeGreaterThan(0);

      await report(t, agent, "acme", "dev", revision, "Degraded-by-event");
      const cached = await eventually(async () => {
        const c = client.readQuery<TenantEnvironmentSync>({ query: TENANT_ENVIRONMENT, variables: { t: "acme", e: "dev" } });
        return c?.tenantEnvironment.sync.health === "Degraded-by-event" ? c : undefined;
      }, "the second event in the cache");
      expect(cached.tenantEnvironment.sync).toMatchObject({ id: te.sync.id, state: "OUT_OF_SYNC", agent: "CONNECTED", revision });
      // One object in the cache, referenced from the tenant-environment.
      const store = client.cache.extract() as Record<string, Record<string, unknown>>;
      expect(store[`TenantEnvironment:${te.id}`]!.sync).toEqual({ __ref: `SyncStatus:${te.sync.id}` });
      expect(store[`SyncStatus:${te.sync.id}`]!.tenantEnvironment).toEqual({ __ref: `TenantEnvironment:${te.id}` });
    } finally {
      subscription.unsubscribe();
    }
  });

  it("a sync status fetched by another query updates the cached one; the status names its tenant-environment", async () => {
    const jane = tokenOf(t, "jane");
    const agent = await agentToken(t);
    const revision = await revisionBack(t, jane, "globex", "staging", 0);
    const client = apollo(t, jane);
    const { data } = await client.query<TenantEnvironmentSync>({ query: TENANT_ENVIRONMENT, variables: { t: "globex", e: "staging" } });
    await report(t, agent, "globex", "staging", revision, "Refetched");

    const everywhere = await client.query<{
      project: { tenants: { environments: { id: string; sync: { id: string; health: string | null; tenantEnvironment: { id: string; name: string } } }[] }[] };
    }>({
      query: gql`
        {
          project(slug: "demo") {
            id
            tenants {
              id
              environments {
                id
                sync {
                  id
                  health
                  tenantEnvironment {
                    id
                    name
                  }
                }
              }
            }
          }
        }
      `,
      fetchPolicy: "network-only",
    });
    const staging = everywhere.data!.project.tenants.flatMap((x) => x.environments).find((e) => e.id === data!.tenantEnvironment.id)!;
    expect(staging.sync).toMatchObject({ id: data!.tenantEnvironment.sync.id, health: "Refetched", tenantEnvironment: { id: data!.tenantEnvironment.id, name: "staging" } });
    const ids = everywhere.data!.project.tenants.flatMap((x) => x.environments).map((e) => e.sync.id);
    expect(new Set(ids).size).toBe(ids.length);

    const cached = client.readQuery<TenantEnvironmentSync>({ query: TENANT_ENVIRONMENT, variables: { t: "globex", e: "staging" } });
    expect(cached?.tenantEnvironment.sync.health).toBe("Refetched");
  });

  it("setApprovalPolicy's answer updates the policy cached on the tenant-environment, also when it was the default before", async () => {
    const alice = tokenOf(t, "alice");
    const client = apollo(t, alice);
    const { data } = await client.query<TenantEnvironmentSync>({ query: TENANT_ENVIRONMENT, variables: { t: "acme", e: "dev" } });
    const before = data!.tenantEnvironment.approvalPolicy;
    const { data: set } = await client.mutate<{ setApprovalPolicy: { id: string; requiredApprovals: number } }>({
      mutation: gql`
        mutation {
          setApprovalPolicy(project: "demo", environment: "dev", requiredApprovals: 2, allowSelfApproval: true) {
            id
            requiredApprovals
            allowSelfApproval
          }
        }
      `,
    });
    expect(set!.setApprovalPolicy.id).toBe(before.id);
    const cached = client.readQuery<TenantEnvironmentSync>({ query: TENANT_ENVIRONMENT, variables: { t: "acme", e: "dev" } });
    expect(cached?.tenantEnvironment.approvalPolicy).toMatchObject({ id: before.id, requiredApprovals: 2, allowSelfApproval: true });
    // Every tenant's dev shows the same policy object (the policy is per project and environment).
    const other = await client.query<TenantEnvironmentSync>({ query: TENANT_ENVIRONMENT, variables: { t: "globex", e: "dev" } });
    expect(other.data!.tenantEnvironment.approvalPolicy.id).toBe(before.id);
    await client.mutate({
      mutation: gql`
        mutation {
          setApprovalPolicy(project: "demo", environment: "dev", requiredApprovals: 0, allowSelfApproval: false) {
            id
          }
        }
      `,
    });
  });

  it("reviews and notes have ids, so each is cached once", async () => {
    const [jane, bob] = [tokenOf(t, "jane"), tokenOf(t, "bob")];
    const target = await revisionBack(t, jane, "acme", "production", 1);
    const request = await mustRequest(t, jane, { tenant: "acme", environment: "production", mode: "FULL", targetSha: target, justification: TEST_JUSTIFICATION });
    expect(request.state).toBe("PENDING");
    const FIELDS = "id notes { id text author { id email } } reviews { id decision reviewer { id email } }";
    const janes = apollo(t, jane);
    await janes.mutate({ mutation: gql`mutation Note($id: ID!) { addRollbackNote(id: $id, text: "first") { ${FIELDS} } }`, variables: { id: request.id } });
    await janes.mutate({ mutation: gql`mutation Note($id: ID!) { addRollbackNote(id: $id, text: "second") { ${FIELDS} } }`, variables: { id: request.id } });
    const bobs = apollo(t, bob);
    const { data } = await bobs.mutate<{ reviewRollbackRequest: { notes: { id: string; text: string }[]; reviews: { id: string; decision: string }[] } }>({
      mutation: gql`mutation Review($id: ID!) { reviewRollbackRequest(id: $id, decision: APPROVE, comment: "ok") { ${FIELDS} } }`,
      variables: { id: request.id },
    });
    const { notes, reviews } = data!.reviewRollbackRequest;
    expect(notes.map((n) => n.text)).toEqual(["first", "second"]);
    expect(notes.every((n) => n.id.startsWith("note_"))).toBe(true);
    expect(reviews).toEqual([{ __typename: "Review", id: expect.stringMatching(/^rev_/), decision: "APPROVE", reviewer: expect.anything() }]);
    const store = bobs.cache.extract() as Record<string, unknown>;
    for (const n of notes) expect(store[`RollbackNote:${n.id}`]).toMatchObject({ text: n.text });
    expect(store[`Review:${reviews[0]!.id}`]).toMatchObject({ decision: "APPROVE" });
  });
});
