import { useRef, useState, type FormEvent } from "react";
import { useMutation, useQuery, useSubscription } from "urql";
import { graphql } from "../../gql";
import type { RequestDetailFragment, TenantEnvironmentStatusFragment } from "../../gql/graphql";
import { ErrorMessage, Loading, PageHeading } from "../components/feedback";
import { ReviewControls } from "../components/review-controls";
import { StatusSummary } from "../components/tenant-environment-status";
import { Badge, Revision, Time } from "../components/values";
import { useRefetchOnEvent } from "../live";
import { Link, path, usePageTitle } from "../router";
import { roleRefusal, useSession } from "../session-context";

const RequestQuery = graphql(`
  query RequestPage($id: ID!) {
    rollbackRequest(id: $id) {
      ...RequestDetail
    }
  }
`);

const RequestContextQuery = graphql(`
  query RequestContext($project: String!, $tenant: String!, $environment: String!) {
    project(slug: $project) {
      id
      viewerRole
    }
    tenantEnvironment(project: $project, tenant: $tenant, environment: $environment) {
      ...TenantEnvironmentStatus
    }
  }
`);

const RequestUpdates = graphql(`
  subscription RequestUpdates($project: String!, $id: ID!) {
    rollbackRequestUpdated(project: $project, id: $id) {
      ...RequestDetail
    }
  }
`);

const RequestSync = graphql(`
  subscription RequestSync($project: String!, $tenant: String!, $environment: String!) {
    syncStatusChanged(project: $project, tenant: $tenant, environment: $environment) {
      tenant
      environment
      agent
      state
      health
      revision
      lastReportAt
      drift {
        kind
        name
        field
        desired
        actual
      }
    }
  }
`);

const RequestDeployments = graphql(`
  subscription RequestDeployments($project: String!, $tenant: String!, $environment: String!) {
    deploymentRecorded(project: $project, tenant: $tenant, environment: $environment) {
      id
      status
      shortRevision
    }
  }
`);

const RetryExecution = graphql(`
  mutation RetryExecution($id: ID!) {
    retryRollbackExecution(id: $id) {
      ...RequestDetail
    }
  }
`);

const AddNote = graphql(`
  mutation AddNote($id: ID!, $text: String!) {
    addRollbackNote(id: $id, text: $text) {
      ...RequestDetail
    }
  }
`);

type State = RequestDetailFragment["state"];

/** The states this request goes through, from what it is now: approval first only when it needed one. */
function timelineOf(r: RequestDetailFragment): State[] {
  const approvalStep = r.requiredApprovals > 0 && !(r.breakGlass && r.approvals < r.requiredApprovals);
  if (r.state === "REJECTED") return ["PENDING", "REJECTED"];
  const path: State[] = approvalStep ? ["PENDING", "APPROVED", "EXECUTING"] : ["EXECUTING"];
  return [...path, r.state === "FAILED" ? "FAILED" : "COMPLETED"];
}

function Timeline({ request, seen }: { request: RequestDetailFragment; seen: { state: State; at: string }[] }) {
  const steps = timelineOf(request);
  const reached = steps.indexOf(request.state);
  const terminal = request.state === "COMPLETED" || request.state === "FAILED" || request.state === "REJECTED";
  return (
    <ol className="timeline" aria-label="State timeline">
      {steps.map((state, i) => {
        const status = i < reached || (i === reached && terminal) ? "done" : i === reached ? "current" : "upcoming";
        const at = seen.find((s) => s.state === state)?.at;
        return (
          <li key={state} className={status} aria-current={i === reached ? "step" : undefined}>
            <Badge value={state} /> <span className="visually-hidden">({status === "upcoming" ? "not reached" : status === "current" ? "current state" : "reached"})</span>
            {at ? (
              <span className="muted">
                {" "}
                seen live at <Time iso={at} />
              </span>
            ) : null}
          </li>
        );
      })}
    </ol>
  );
}

const HEALTHY = new Set(["healthy"]);

/** The product page's post-rollback checks, from the request and the agent's latest report. */
function Checklist({ request, te }: { request: RequestDetailFragment; te: TenantEnvironmentStatusFragment | null | undefined }) {
  const sync = te?.sync;
  const committed = Boolean(request.commitSha);
  const deploymentStatus = request.deployment?.status;
  const synced = committed && (deploymentStatus === "SUCCESS" || deploymentStatus === "FAILED" || (sync?.state === "SYNCED" && sync.revision === request.commitSha));
  const healthy = synced && deploymentStatus !== "FAILED" && (sync?.health ? HEALTHY.has(sync.health.toLowerCase()) : deploymentStatus === "SUCCESS");
  const noDrift = synced && sync?.state !== "OUT_OF_SYNC" && (sync?.drift.length ?? 0) === 0;
  const items: [string, boolean, string][] = [
    ["Git commit present", committed, committed ? `rollback commit ${request.commitSha!.slice(0, 7)} is on the branch` : "no commit yet"],
    [
      "Agent synced to it",
      synced,
      synced
        ? "the cluster agent reported a revision containing the rollback"
        : sync?.agent === "UNREACHABLE"
          ? "the agent is unreachable: the rollback is safe in Git and syncs when it reconnects"
          : "waiting for the agent to report the rollback commit",
    ],
    ["Healthy", healthy, sync?.health ? `health: ${sync.health}` : "no health reported yet"],
    ["No drift", noDrift, sync ? `${sync.drift.length} drift item${sync.drift.length === 1 ? "" : "s"}, sync ${sync.state.toLowerCase().replaceAll("_", " ")}` : "no report yet"],
    ["Documented", request.notes.length > 0, request.notes.length > 0 ? `${request.notes.length} note${request.notes.length === 1 ? "" : "s"}` : "add a post-incident note below"],
  ];
  return (
    <ul className="checklist" aria-label="Post-rollback checklist">
      {items.map(([label, ok, detail]) => (
        <li key={label} className={ok ? "ok" : "todo"}>
          <span aria-hidden="true">{ok ? "✓" : "○"}</span> <strong>{label}</strong>
          <span className="visually-hidden">{ok ? ": done" : ": not yet"}</span> <span className="muted">— {detail}</span>
        </li>
      ))}
    </ul>
  );
}

export function RequestPage({ project, id }: { project: string; id: string }) {
  usePageTitle(`Rollback request ${id}`);
  const session = useSession();
  const [{ data, error, fetching }] = useQuery({ query: RequestQuery, variables: { id } });
  // A request of another project than the address says is not this page's.
  const r = data?.rollbackRequest?.project === project ? data.rollbackRequest : null;
  const scope = { project: r?.project ?? "", tenant: r?.tenant ?? "", environment: r?.environment ?? "" };
  const [context, reexecuteContext] = useQuery({ query: RequestContextQuery, variables: scope, pause: !r });
  const refetchContext = useRefetchOnEvent(reexecuteContext);
  // States this page saw the request enter (from the subscription), with when.
  const [seen, setSeen] = useState<{ state: State; at: string }[]>([]);
  const lastState = useRef<State | null>(null);
  if (r && lastState.current === null) lastState.current = r.state;
  const [feed] = useSubscription({ query: RequestUpdates, variables: { project: scope.project, id }, pause: !r }, (_prev, event) => {
    const state = event.rollbackRequestUpdated.state;
    if (state !== lastState.current) {
      lastState.current = state;
      setSeen((list) => [...list.filter((s) => s.state !== state), { state, at: new Date().toISOString() }]);
    }
    return event;
  });
  useSubscription({ query: RequestSync, variables: scope, pause: !r }, () => (refetchContext(), null));
  useSubscription({ query: RequestDeployments, variables: scope, pause: !r }, () => (refetchContext(), null));
  const [retry, runRetry] = useMutation(RetryExecution);
  const [note, runNote] = useMutation(AddNote);
  const [noteText, setNoteText] = useState("");

  if (!data && fetching) return <Loading what={`rollback request ${id}`} />;
  if (!r)
    return (
      <>
        <PageHeading>Rollback request {id}</PageHeading>
        <ErrorMessage error={error ?? `Rollback request “${id}” does not exist, or you cannot see its project.`} />
      </>
    );

  const role = context.data?.project?.viewerRole;
  const retryRefusal = r.requestedBy.id === session.me?.id ? null : roleRefusal(role, "APPROVER", r.project);
  const noteRefusal = roleRefusal(role, "DEPLOYER", r.project);
  const addNote = async (event: FormEvent) => {
    event.preventDefault();
    const result = await runNote({ id: r.id, text: noteText });
    if (!result.error) setNoteText("");
  };

  return (
    <>
      <PageHeading>Rollback request {r.id}</PageHeading>
      <p>
        <Link href={path("projects", r.project, "history", r.tenant, r.environment)}>
          History of {r.tenant}/{r.environment}
        </Link>{" "}
        · <Link href={path("projects", r.project, "approvals")}>Approvals in {r.project}</Link>
      </p>
      <p className="request-state" role="status" aria-live="polite">
        State: <Badge value={r.state} />
        {r.breakGlass ? <span className="badge bad flag">Break-glass: approval bypassed</span> : null}
      </p>
      <ErrorMessage error={feed.error} prefix="Live updates stopped" />
      <Timeline request={r} seen={seen} />
      <dl className="status-summary">
        <div>
          <dt>Scope</dt>
          <dd>
            {r.mode.toLowerCase()} rollback
            {r.service ? ` of ${r.service}` : ""}
            {r.selectedFields.length ? ` (fields ${r.selectedFields.join(", ")})` : ""} in {r.tenant}/{r.environment}
          </dd>
        </div>
        <div>
          <dt>Target revision</dt>
          <dd>
            <Revision sha={r.targetSha} /> (requested against <Revision sha={r.baseSha} />)
          </dd>
        </div>
        <div>
          <dt>Requested by</dt>
          <dd>
            {r.requestedBy.email}, <Time iso={r.createdAt} />
          </dd>
        </div>
        <div>
          <dt>Justification</dt>
          <dd>{r.justification}</dd>
        </div>
        <div>
          <dt>Affected services</dt>
          <dd>{r.affectedServices.join(", ") || "—"}</dd>
        </div>
        <div>
          <dt>Approvals</dt>
          <dd>
            {r.approvals} of {r.requiredApprovals}
          </dd>
        </div>
      </dl>

      {r.state === "COMPLETED" ? (
        <section aria-labelledby="commit-heading">
          <h2 id="commit-heading">Rollback commit</h2>
          <p>
            Commit <code>{r.commitSha}</code>
          </p>
          <figure>
            <figcaption>Commit message</figcaption>
            <pre className="commit-message">{r.commitMessage}</pre>
          </figure>
        </section>
      ) : null}
      {r.state === "FAILED" ? (
        <section aria-labelledby="failure-heading">
          <h2 id="failure-heading">Execution failed</h2>
          <p className="error">
            {r.errorCode ? <strong>{r.errorCode}</strong> : null} {r.error}
          </p>
          <p className="muted">
            {r.executionAttempts} attempt{r.executionAttempts === 1 ? "" : "s"} so far.
            {r.errorCode === "CONFLICT" ? " A conflict stays a conflict on retry: request a new rollback on the current state." : ""}
          </p>
          <button type="button" onClick={() => runRetry({ id: r.id })} disabled={retry.fetching || retryRefusal !== null} aria-describedby={retryRefusal ? "retry-why" : undefined}>
            Retry execution
          </button>
          {retryRefusal ? (
            <span id="retry-why" className="why-not">
              {retryRefusal}
            </span>
          ) : null}
          <ErrorMessage error={retry.error} prefix="Retry failed" />
        </section>
      ) : null}

      <section aria-labelledby="reviews-heading">
        <h2 id="reviews-heading">
          Reviews ({r.approvals} of {r.requiredApprovals} approvals)
        </h2>
        {r.reviews.length === 0 ? (
          <p className="empty">{r.requiredApprovals === 0 ? "No approval was required." : r.breakGlass ? "Approval was bypassed by a break-glass session." : "No reviews yet."}</p>
        ) : null}
        <ul>
          {r.reviews.map((rv) => (
            <li key={rv.reviewer.id}>
              <Badge value={rv.decision === "APPROVE" ? "APPROVED" : "REJECTED"} /> by {rv.reviewer.email}, <Time iso={rv.createdAt} />
              {rv.comment ? `: “${rv.comment}”` : ""}
            </li>
          ))}
        </ul>
        {r.state === "PENDING" ? <ReviewControls request={r} /> : null}
      </section>

      <section aria-labelledby="checklist-heading">
        <h2 id="checklist-heading">Post-rollback checklist</h2>
        <Checklist request={r} te={context.data?.tenantEnvironment} />
        {context.data?.tenantEnvironment ? <StatusSummary te={context.data.tenantEnvironment} label={`Current state of ${r.tenant}/${r.environment}`} /> : null}
        <ErrorMessage error={context.error} />
      </section>

      <section aria-labelledby="notes-heading">
        <h2 id="notes-heading">Notes</h2>
        {r.notes.length === 0 ? <p className="empty">No notes yet. Capture the root cause and corrective actions for the post-incident review.</p> : null}
        <ul className="notes">
          {r.notes.map((n, i) => (
            <li key={i}>
              <p>{n.text}</p>
              <p className="muted">
                {n.author.email}, <Time iso={n.createdAt} />
              </p>
            </li>
          ))}
        </ul>
        <form onSubmit={addNote} aria-label="Add a note">
          <label htmlFor="note">Note</label>
          <textarea id="note" rows={3} maxLength={10000} value={noteText} onChange={(e) => setNoteText(e.target.value)} required />
          <ErrorMessage error={note.error} prefix="The note was not added" />
          <button type="submit" disabled={note.fetching || noteRefusal !== null} aria-describedby={noteRefusal ? "note-why" : undefined}>
            Add note
          </button>
          {noteRefusal ? (
            <span id="note-why" className="why-not">
              {noteRefusal}
            </span>
          ) : null}
        </form>
      </section>
    </>
  );
}
