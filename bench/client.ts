import { createClient, type Client } from "graphql-ws";
import WebSocket from "ws";

/** A GraphQL client over HTTP as a frontend or integration would use it; errors are real errors here. */
export class GraphQLClient {
  constructor(
    readonly url: string,
    readonly token: string,
  ) {}

  async request<T>(query: string, variables: Record<string, unknown> = {}): Promise<T> {
    const res = await fetch(this.url, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${this.token}` },
      body: JSON.stringify({ query, variables }),
    });
    const body = (await res.json()) as { data?: T; errors?: { message: string; extensions?: { code?: string } }[] };
    if (body.errors?.length) {
      throw new Error(`GraphQL error: ${body.errors.map((e) => `${e.extensions?.code ?? "?"}: ${e.message}`).join("; ")}`);
    }
    return body.data as T;
  }

  /** A graphql-ws client on the same server, authenticated with the same token. */
  ws(url = this.url.replace(/^http/, "ws")): Client {
    return createClient({
      url,
      webSocketImpl: WebSocket,
      connectionParams: { authorization: `Bearer ${this.token}` },
      retryAttempts: 0,
      lazy: false,
      keepAlive: 0,
    });
  }
}

export const REQUEST_ROLLBACK = `mutation Rollback($input: RollbackInput!) {
  requestRollback(input: $input) { id state commitSha error }
}`;

export const HISTORY = `query History($p: String!, $t: String!, $e: String!, $first: Int, $after: String) {
  deploymentHistory(project: $p, tenant: $t, environment: $e, first: $first, after: $after) {
    totalCount
    pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
    edges {
      cursor
      node {
        id revision shortRevision deployedAt summary source status
        author { id email name }
        changes { service file path kind before after }
      }
    }
  }
}`;

/** The history panel's page (the console's HistoryChunk with the row fields the panel shows: revision, time, author email and name, summary, source, status). */
export const HISTORY_PANEL = `query HistoryPanel($p: String!, $t: String!, $e: String!, $first: Int, $after: String) {
  deploymentHistory(project: $p, tenant: $t, environment: $e, first: $first, after: $after) {
    totalCount
    pageInfo { endCursor hasNextPage }
    edges { node { id revision shortRevision deployedAt summary source status author { id email name } } }
  }
}`;

/** The same page with one field per row: the difference to HISTORY_PANEL is the cost of the fields themselves. */
export const HISTORY_IDS = `query HistoryIds($p: String!, $t: String!, $e: String!, $first: Int, $after: String) {
  deploymentHistory(project: $p, tenant: $t, environment: $e, first: $first, after: $after) {
    totalCount
    pageInfo { endCursor hasNextPage }
    edges { node { id } }
  }
}`;

/** Fields per row of HISTORY_PANEL beyond HISTORY_IDS (deployment: 7, author object and its 3). */
export const PANEL_EXTRA_FIELDS_PER_ROW = 10;

/** The trivial authenticated query the read path is measured against. */
export const ME = `query Me { me { email } }`;

const CHANGE_FIELDS = "service file path kind before after";
const SERVICE_DIFF = `services { service changes { ${CHANGE_FIELDS} } files { path kind patch } }
    environmentChanges { ${CHANGE_FIELDS} }
    impact { services bindings variables fields files }`;

export const COMPARE = `query Compare($p: String!, $t: String!, $e: String!, $target: String!, $base: String) {
  compareRevisions(project: $p, tenant: $t, environment: $e, target: $target, base: $base) {
    tenant environment base target
    ${SERVICE_DIFF}
  }
}`;

export const PREVIEW = `query Preview($input: RollbackInput!) {
  previewRollback(input: $input) {
    mode targetSha baseSha blastRadius approvalRequired requiredApprovals breakGlassActive
    ${SERVICE_DIFF}
  }
}`;

export const ADD_NOTE = `mutation Note($id: ID!, $text: String!) { addRollbackNote(id: $id, text: $text) { id } }`;

export const SUBSCRIBE_REQUEST = `subscription Updates($p: String!, $id: ID) {
  rollbackRequestUpdated(project: $p, id: $id) { id state updatedAt notes { text } }
}`;

/** base64url of "dep:<seq>", the way src/lib/paging.ts encodes a history cursor. */
export function historyCursor(seq: number): string {
  return Buffer.from(`dep:${seq}`, "utf8").toString("base64url");
}
