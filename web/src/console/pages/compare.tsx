import { useQuery } from "urql";
import { graphql } from "../../gql";
import { ChangeSet, ImpactCounts } from "../components/diff";
import { ErrorMessage, Loading, PageHeading } from "../components/feedback";
import { Revision } from "../components/values";
import { shortSha } from "../format";
import { Link, navigate, path, usePageTitle } from "../router";

const CompareQuery = graphql(`
  query Compare($project: String!, $tenant: String!, $environment: String!, $target: String!) {
    project(slug: $project) {
      id
      viewerRole
    }
    compareRevisions(project: $project, tenant: $tenant, environment: $environment, target: $target) {
      ...ComparisonParts
    }
  }
`);

export function ComparePage({ project, tenant, environment, revision }: { project: string; tenant: string; environment: string; revision: string }) {
  usePageTitle(`Compare ${shortSha(revision)} with current`);
  const [{ data, error, fetching }] = useQuery({ query: CompareQuery, variables: { project, tenant, environment, target: revision } });
  const cmp = data?.compareRevisions;
  const back = path("projects", project, "history", tenant, environment);
  return (
    <>
      <PageHeading>
        Compare revision {shortSha(revision)} with current ({tenant} / {environment})
      </PageHeading>
      <p>
        <Link href={back}>
          Back to the history of {tenant}/{environment}
        </Link>
      </p>
      {!data && fetching ? <Loading what="the comparison" /> : null}
      <ErrorMessage error={error} />
      {cmp ? (
        <>
          <p>
            What rolling back from the current revision <Revision sha={cmp.base} /> to <Revision sha={cmp.target} /> would change.
          </p>
          <h2>Impact</h2>
          <ImpactCounts impact={cmp.impact} />
          <h2>Changes per service</h2>
          <ChangeSet
            services={cmp.services}
            environmentChanges={cmp.environmentChanges}
            environmentFiles={cmp.environmentFiles}
            beforeLabel={`Current (${shortSha(cmp.base)})`}
            afterLabel={`At ${shortSha(cmp.target)}`}
          />
          <p>
            <button
              type="button"
              onClick={() => navigate(`${path("projects", project, "rollback")}?${new URLSearchParams({ tenant, environment, revision: cmp.target })}`)}
              disabled={data?.project?.viewerRole === "VIEWER"}
            >
              Rollback to this revision
            </button>
          </p>
        </>
      ) : null}
    </>
  );
}
