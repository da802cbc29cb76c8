import { useState } from "react";
import { useQuery } from "urql";
import { graphql } from "../../gql";
import { Empty, ErrorMessage, Loading, PageHeading } from "../components/feedback";
import { Time } from "../components/values";
import { usePageTitle } from "../router";

const AuditQuery = graphql(`
  query Audit($project: String!, $breakGlassOnly: Boolean!, $first: Int!) {
    auditEvents(project: $project, breakGlassOnly: $breakGlassOnly, first: $first) {
      totalCount
      pageInfo {
        hasNextPage
        endCursor
      }
      nodes {
        id
        at
        action
        subjectId
        breakGlass
        details
        actor {
          id
          email
        }
      }
    }
  }
`);

const VerifyQuery = graphql(`
  query AuditVerification($project: String!) {
    auditChainVerification(project: $project) {
      intact
      checked
      firstBreak {
        seq
        eventId
        reason
      }
    }
  }
`);

function Verification({ project }: { project: string }) {
  const [{ data, error, fetching }, reexecute] = useQuery({ query: VerifyQuery, variables: { project }, requestPolicy: "network-only" });
  const v = data?.auditChainVerification;
  return (
    <section aria-labelledby="verify-heading" className="verification">
      <h2 id="verify-heading">Hash chain</h2>
      {!data && fetching ? <Loading what="the chain verification" /> : null}
      <ErrorMessage error={error} />
      {v ? (
        <p role="status" className={v.intact ? "ok-text" : "error"}>
          {v.intact
            ? `Intact: all ${v.checked} events verified, each hash matching its content and the previous event's hash.`
            : `Broken at event #${v.firstBreak?.seq}: ${v.firstBreak?.reason} (${v.checked} events checked).`}
        </p>
      ) : null}
      <button type="button" onClick={() => reexecute({ requestPolicy: "network-only" })} disabled={fetching}>
        Verify again
      </button>
    </section>
  );
}

function summarize(details: unknown): string {
  if (!details || typeof details !== "object") return "";
  return Object.entries(details as Record<string, unknown>)
    .filter(([, v]) => v !== null && v !== undefined && typeof v !== "object")
    .slice(0, 6)
    .map(([k, v]) => `${k}: ${String(v)}`)
    .join(" · ");
}

export function AuditPage({ project }: { project: string }) {
  usePageTitle(`Audit trail: ${project}`);
  const [breakGlassOnly, setBreakGlassOnly] = useState(false);
  const [pages, setPages] = useState(1);
  const [{ data, error, fetching }] = useQuery({ query: AuditQuery, variables: { project, breakGlassOnly, first: 50 * pages } });
  const events = data?.auditEvents.nodes ?? [];
  return (
    <>
      <PageHeading>Audit trail: {project}</PageHeading>
      <Verification project={project} />
      <div className="filters">
        <label>
          <input
            type="checkbox"
            checked={breakGlassOnly}
            onChange={(e) => {
              setBreakGlassOnly(e.target.checked);
              setPages(1);
            }}
          />{" "}
          Break-glass only
        </label>
        <span role="status" className="muted">
          {data ? `${data.auditEvents.totalCount} event${data.auditEvents.totalCount === 1 ? "" : "s"}` : ""}
        </span>
      </div>
      {!data && fetching ? <Loading what="audit events" /> : null}
      <ErrorMessage error={error} />
      {data && events.length === 0 ? <Empty>{breakGlassOnly ? "No break-glass actions recorded." : "No audit events yet."}</Empty> : null}
      {events.length ? (
        <table className="audit">
          <caption>Audit events, newest first</caption>
          <thead>
            <tr>
              <th scope="col">Time</th>
              <th scope="col">Actor</th>
              <th scope="col">Action</th>
              <th scope="col">Subject</th>
              <th scope="col">Break-glass</th>
              <th scope="col">Details</th>
            </tr>
          </thead>
          <tbody>
            {events.map((e) => (
              <tr key={e.id} className={e.breakGlass ? "flagged" : undefined}>
                <td>
                  <Time iso={e.at} />
                </td>
                <td>{e.actor?.email ?? "system"}</td>
                <th scope="row">
                  <code>{e.action}</code>
                </th>
                <td>{e.subjectId ? <code>{e.subjectId}</code> : "—"}</td>
                <td>{e.breakGlass ? <span className="badge bad">Yes</span> : "No"}</td>
                <td>
                  <details>
                    <summary>{summarize(e.details) || "details"}</summary>
                    <pre>{JSON.stringify(e.details, null, 2)}</pre>
                  </details>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      ) : null}
      {data?.auditEvents.pageInfo.hasNextPage ? (
        <button type="button" onClick={() => setPages((n) => n + 1)} disabled={fetching}>
          Load more
        </button>
      ) : null}
    </>
  );
}
