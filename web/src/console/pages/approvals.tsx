import { useQuery, useSubscription } from "urql";
import { graphql } from "../../gql";
import { Empty, ErrorMessage, Loading, PageHeading } from "../components/feedback";
import { ReviewControls } from "../components/review-controls";
import { Revision, Time } from "../components/values";
import { useRefetchOnEvent } from "../live";
import { Link, path, usePageTitle } from "../router";

const ApprovalsQuery = graphql(`
  query Approvals($project: String!) {
    project(slug: $project) {
      id
      viewerRole
    }
    rollbackRequests(project: $project, state: PENDING, first: 100) {
      totalCount
      nodes {
        ...RequestDetail
      }
    }
  }
`);

const ApprovalUpdates = graphql(`
  subscription ApprovalUpdates($project: String!) {
    rollbackRequestUpdated(project: $project) {
      ...RequestDetail
    }
  }
`);

export function ApprovalsPage({ project }: { project: string }) {
  usePageTitle(`Approvals: ${project}`);
  const [{ data, error, fetching }, reexecute] = useQuery({ query: ApprovalsQuery, variables: { project } });
  const refetch = useRefetchOnEvent(reexecute);
  const [feed] = useSubscription({ query: ApprovalUpdates, variables: { project } }, () => (refetch(), null));
  const pending = data?.rollbackRequests.nodes ?? [];
  return (
    <>
      <PageHeading>Approvals queue: {project}</PageHeading>
      <p className="muted">Pending rollback requests of {project}, live. Reaching a request's quorum executes it at once; one rejection rejects it.</p>
      {!data && fetching ? <Loading what="pending requests" /> : null}
      <ErrorMessage error={error} />
      <ErrorMessage error={feed.error} prefix="Live updates stopped" />
      {data && pending.length === 0 ? <Empty>No rollback request is waiting for approval in {project}.</Empty> : null}
      <ul className="queue">
        {pending.map((r) => (
          <li key={r.id}>
            <article aria-labelledby={`req-${r.id}`}>
              <h2 id={`req-${r.id}`}>
                <Link href={path("projects", r.project, "requests", r.id)}>{r.id}</Link>: {r.mode.toLowerCase()}
                {r.service ? ` ${r.service}` : ""} in {r.tenant}/{r.environment}
              </h2>
              <p>
                Back to <Revision sha={r.targetSha} />, requested by {r.requestedBy.email} <Time iso={r.createdAt} /> · {r.approvals} of {r.requiredApprovals} approvals
              </p>
              <p>
                <strong>Justification:</strong> {r.justification}
              </p>
              {r.selectedFields.length ? <p>Fields: {r.selectedFields.join(", ")}</p> : null}
              <ReviewControls request={r} />
            </article>
          </li>
        ))}
      </ul>
    </>
  );
}
