/**
 * One failing field does not take the operation's other fields with it: the failed field is null
 * with its coded error (path included) and the rest keep their data, as graphql-request shows it
 * with errorPolicy "all". A failure reaches further only where the contract declares a field
 * non-null: then the nearest nullable field above it (or data itself, for a root field) is null.
 */
import { ClientError, GraphQLClient } from "graphql-request";
import { describe, expect, it } from "vitest";
import { tokenOf } from "../../helpers/demo.js";
import { revisionBack } from "../../helpers/operations.js";
import { useTestServer } from "../../helpers/server.js";

interface RawError {
  message: string;
  path?: (string | number)[];
  extensions?: { code?: string; status?: number };
}

describe("partial results", () => {
  const t = useTestServer();
  const client = (token: string) => new GraphQLClient(t.graphqlUrl, { headers: { authorization: `Bearer ${token}` }, errorPolicy: "all" });
  const preview = (sha: string) => `previewRollback(input: { project: "demo", tenant: "acme", environment: "staging", mode: FULL, targetSha: "${sha}" }) { mode targetSha }`;

  it("a rollback request that does not exist is null next to a preview that succeeds", async () => {
    const jane = tokenOf(t, "jane");
    const sha = await revisionBack(t, jane, "acme", "staging", 2);
    const res = await client(jane).rawRequest<{ rollbackRequest: null; previewRollback: { mode: string; targetSha: string } }>(
      `{ rollbackRequest(id: "rbk-nope") { id } ${preview(sha)} }`,
    );
    expect(res.data).toEqual({ rollbackRequest: null, previewRollback: { mode: "FULL", targetSha: sha } });
    expect(res.errors).toBeUndefined();
  });

  it("a root field that fails is null with its coded error, and every other root field keeps its data", async () => {
    const jane = tokenOf(t, "jane");
    const sha = await revisionBack(t, jane, "acme", "staging", 2);
    const res = await client(jane).rawRequest<Record<string, unknown>>(
      `{ auditChainVerification(project: "no-such-project") { intact } rollbackRequest(id: "rbk-nope") { id } ${preview(sha)} me { email } }`,
    );
    expect(res.data).toEqual({ auditChainVerification: null, rollbackRequest: null, previewRollback: { mode: "FULL", targetSha: sha }, me: { email: "jane@example.com" } });
    expect(res.errors as RawError[] | undefined).toEqual([
      expect.objectContaining({ message: 'project "no-such-project" not found', path: ["auditChainVerification"], extensions: { code: "NOT_FOUND", status: 404 } }),
    ]);
  });

  it("several failing fields each get their own error, in one response with the data that was served", async () => {
    const victor = tokenOf(t, "victor");
    const res = await client(victor).rawRequest<Record<string, unknown>>(
      `{ a: auditChainVerification(project: "nope-a") { intact } b: auditChainVerification(project: "demo") { intact } c: auditChainVerification(project: "nope-c") { intact } }`,
    );
    expect(res.data).toEqual({ a: null, b: { intact: true }, c: null });
    const errors = (res.errors ?? []) as RawError[];
    expect(errors.map((e) => [e.path, e.extensions?.code])).toEqual([
      [["a"], "NOT_FOUND"],
      [["c"], "NOT_FOUND"],
    ]);
  });

  it("where the contract makes a field non-null its failure nulls the nearest nullable parent: a root field nulls data", async () => {
    const jane = tokenOf(t, "jane");
    // Project.webhooks is [Webhook!]! and ADMIN-only: for a DEPLOYER the project (nullable) is null, the sibling root field is kept.
    const nested = await client(jane).rawRequest<Record<string, unknown>>(`{ project(slug: "demo") { slug webhooks { id } } me { email } }`);
    expect(nested.data).toEqual({ project: null, me: { email: "jane@example.com" } });
    expect((nested.errors as RawError[])[0]).toMatchObject({ path: ["project", "webhooks"], extensions: { code: "FORBIDDEN", status: 403 } });
    // previewRollback is RollbackPreview!: its failure leaves no data, and graphql-request's default policy throws the error.
    const strict = new GraphQLClient(t.graphqlUrl, { headers: { authorization: `Bearer ${jane}` } });
    const err = await strict
      .request(`{ me { email } previewRollback(input: { project: "demo", tenant: "acme", environment: "staging", mode: FULL }) { mode } }`)
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ClientError);
    const response = (err as ClientError).response;
    expect(response.data ?? null).toBeNull();
    expect(response.errors?.[0]).toMatchObject({ message: "targetSha is required", path: ["previewRollback"], extensions: { code: "BAD_USER_INPUT", status: 400 } });
  });
});
