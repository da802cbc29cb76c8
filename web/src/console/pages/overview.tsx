import { useQuery, useSubscription } from "urql";
import { graphql } from "../../gql";
import { Empty, ErrorMessage, Loading, PageHeading } from "../components/feedback";
import { DeliveryMetricsPanel } from "../components/delivery-metrics";
import { RequestList } from "../components/request-list";
import { Badge, Revision, Time } from "../components/values";
import { useRefetchOnEvent } from "../live";
import { Link, path, usePageTitle } from "../router";
import { roleRefusal } from "../session-context";

const OverviewQuery = graphql(`
  query Overview($project: String!) {
    project(slug: $project) {
      id
      slug
      viewerRole
      environments
      organization {
        id
        slug
        plan
        features
      }
      tenants {
        id
        slug
        environments {
          id
          name
          currentRevision
          latestDeployment {
            id
            shortRevision
            status
            source
            deployedAt
          }
          sync {
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
      }
    }
    rollbackRequests(project: $project, first: 10) {
      totalCount
      nodes {
        ...RequestRow
      }
    }
  }
`);

const OverviewSync = graphql(`
  subscription OverviewSync($project: String!) {
    syncStatusChanged(project: $project) {
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

const OverviewDeployments = graphql(`
  subscription OverviewDeployments($project: String!) {
    deploymentRecorded(project: $project) {
      id
      shortRevision
      status
      source
      deployedAt
    }
  }
`);

export function OverviewPage({ project }: { project: string }) {
  usePageTitle(`${project}: overview`);
  const [{ data, error, fetching }, reexecute] = useQuery({ query: OverviewQuery, variables: { project } });
  const refetch = useRefetchOnEvent(reexecute);
  const [syncFeed] = useSubscription({ query: OverviewSync, variables: { project } }, () => (refetch(), null));
  const [deploymentFeed] = useSubscription({ query: OverviewDeployments, variables: { project } }, () => (refetch(), null));

  const p = data?.project;
  return (
    <>
      <PageHeading>Project {project}</PageHeading>
      {!data && fetching ? <Loading what="the project" /> : null}
      <ErrorMessage error={error} />
      <ErrorMessage error={syncFeed.error ?? deploymentFeed.error} prefix="Live updates stopped" />
      {data && !p ? <Empty>Project “{project}” does not exist, or you have no role in it.</Empty> : null}
      {p ? (
        <>
          <p>
            Organization <strong>{p.organization.slug}</strong> on plan <strong>{p.organization.plan}</strong> · feature flags{" "}
            {p.organization.features.length ? p.organization.features.join(", ") : "none"} · your role <strong>{p.viewerRole}</strong>
          </p>
          <p>
            {roleRefusal(p.viewerRole, "DEPLOYER", p.slug) ? (
              <span className="muted">{roleRefusal(p.viewerRole, "DEPLOYER", p.slug)}.</span>
            ) : (
              <Link className="button" href={path("projects", p.slug, "rollback")}>
                Start a rollback
              </Link>
            )}
          </p>
          <table className="overview">
            <caption>
              Tenant-environments <span className="muted">(live: updates as agents report and deployments land)</span>
            </caption>
            <thead>
              <tr>
                <th scope="col">Tenant-environment</th>
                <th scope="col">Current revision</th>
                <th scope="col">Newest deployment</th>
                <th scope="col">Agent</th>
                <th scope="col">Sync</th>
                <th scope="col">Health</th>
                <th scope="col">Drift</th>
                <th scope="col">Last report</th>
              </tr>
            </thead>
            <tbody>
              {p.tenants.flatMap((t) =>
                t.environments.map((te) => (
                  <tr key={te.id}>
                    <th scope="row">
                      <Link href={path("projects", p.slug, "history", t.slug, te.name)}>
                        {t.slug} / {te.name}
                      </Link>
                    </th>
                    <td>
                      <Revision sha={te.currentRevision} />
                    </td>
                    <td>
                      {te.latestDeployment ? (
                        <>
                          <Badge value={te.latestDeployment.status} /> <span className="muted">{te.latestDeployment.source.toLowerCase()}</span>
                        </>
                      ) : (
                        "none yet"
                      )}
                    </td>
                    <td>
                      <Badge value={te.sync.agent} />
                    </td>
                    <td>
                      <Badge value={te.sync.state} />
                    </td>
                    <td>
                      <Badge value={te.sync.health} />
                    </td>
                    <td>{te.sync.drift.length === 0 ? "0" : <strong>{te.sync.drift.length}</strong>}</td>
                    <td>
                      <Time iso={te.sync.lastReportAt} />
                    </td>
                  </tr>
                )),
              )}
            </tbody>
          </table>
          <DeliveryMetricsPanel project={p.slug} />
          <h2>Recent rollback requests</h2>
          {data.rollbackRequests.nodes.length === 0 ? (
            <Empty>No rollback requests in {p.slug} yet.</Empty>
          ) : (
            <RequestList caption={`Newest rollback requests of ${p.slug} (${data.rollbackRequests.totalCount} in all)`} requests={data.rollbackRequests.nodes} />
          )}
        </>
      ) : null}
    </>
  );
}
