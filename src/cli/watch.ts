import { parseArgs } from "node:util";
import { createClient } from "graphql-ws";
import WebSocket from "ws";

/**
 * Watches rollback requests live over the server's graphql-ws endpoint and prints one line per
 * event: `npm run watch -- --server http://127.0.0.1:4000 --token $TOKEN --project demo`.
 */
const { values } = parseArgs({
  options: {
    server: { type: "string", default: "http://127.0.0.1:4000" },
    token: { type: "string" },
    project: { type: "string" },
    tenant: { type: "string" },
    environment: { type: "string" },
    id: { type: "string" },
    deployments: { type: "boolean" },
    json: { type: "boolean" },
  },
});

if (!values.token || !values.project) {
  console.error("usage: npm run watch -- --server URL --token T --project P [--tenant T] [--environment E] [--id rbk-…] [--deployments] [--json]");
  process.exit(2);
}

const url = `${values.server!.replace(/\/+$/, "").replace(/\/graphql$/, "")}/graphql`.replace(/^http/, "ws");
const client = createClient({
  url,
  webSocketImpl: WebSocket,
  connectionParams: { authorization: `Bearer ${values.token}` },
  retryAttempts: Infinity,
  shouldRetry: (event) => !(event && typeof event === "object" && "code" in event && (event as { code: number }).code === 4401),
  on: {
    connected: () => console.error(`watching ${values.project}${values.tenant ? `/${values.tenant}` : ""}${values.environment ? `/${values.environment}` : ""} at ${url} (Ctrl-C to stop)`),
    closed: (event) => {
      const code = (event as { code?: number })?.code;
      if (code === 4401) {
        console.error("the server refused the token (4401)");
        process.exit(1);
      }
    },
  },
});

const variables = { project: values.project, tenant: values.tenant ?? null, environment: values.environment ?? null, id: values.id ?? null };
const time = () => new Date().toISOString().slice(11, 19);

if (values.deployments) {
  client.subscribe<{ deploymentRecorded: { shortRevision: string; source: string; status: string; summary: string; author: { email: string } } }>(
    {
      query: `subscription($project:String!,$tenant:String,$environment:String){ deploymentRecorded(project:$project,tenant:$tenant,environment:$environment){ shortRevision source status summary author{ email } } }`,
      variables,
    },
    {
      next: ({ data, errors }) => {
        if (errors) console.error(errors.map((e) => e.message).join("; "));
        const d = data?.deploymentRecorded;
        if (d) console.log(values.json ? JSON.stringify(d) : `${time()}  ${d.shortRevision}  ${d.source.padEnd(9)}  ${d.status.padEnd(11)}  ${d.author.email}  ${d.summary}`);
      },
      error: (err) => console.error(`subscription error: ${JSON.stringify(err)}`),
      complete: () => process.exit(0),
    },
  );
} else {
  client.subscribe<{
    rollbackRequestUpdated: { id: string; state: string; mode: string; tenant: string; environment: string; approvals: number; requiredApprovals: number; breakGlass: boolean; commitSha: string | null; error: string | null; reviews: { reviewer: { email: string }; decision: string }[]; notes: unknown[] };
  }>(
    {
      query: `subscription($project:String!,$tenant:String,$environment:String,$id:ID){ rollbackRequestUpdated(project:$project,tenant:$tenant,environment:$environment,id:$id){ id state mode tenant environment approvals requiredApprovals breakGlass commitSha error reviews{ reviewer{ email } decision } notes{ text } } }`,
      variables,
    },
    {
      next: ({ data, errors }) => {
        if (errors) console.error(errors.map((e) => e.message).join("; "));
        const r = data?.rollbackRequestUpdated;
        if (!r) return;
        if (values.json) return console.log(JSON.stringify(r));
        const extra = [
          `${r.approvals}/${r.requiredApprovals} approvals`,
          r.breakGlass ? "break-glass" : "",
          r.reviews.length ? `reviews: ${r.reviews.map((v) => `${v.reviewer.email} ${v.decision}`).join(", ")}` : "",
          r.notes.length ? `${r.notes.length} notes` : "",
          r.commitSha ? `commit ${r.commitSha.slice(0, 7)}` : "",
          r.error ? `error: ${r.error}` : "",
        ].filter(Boolean);
        console.log(`${time()}  ${r.id}  ${r.state.padEnd(9)}  ${r.mode.padEnd(7)}  ${r.tenant}/${r.environment}  ${extra.join("  ")}`);
      },
      error: (err) => console.error(`subscription error: ${JSON.stringify(err)}`),
      complete: () => process.exit(0),
    },
  );
}

for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.on(signal, () => {
    void client.dispose();
    process.exit(0);
  });
}
