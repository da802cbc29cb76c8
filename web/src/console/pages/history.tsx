import { useCallback, useEffect, useRef, useState } from "react";
import { useQuery, useSubscription } from "urql";
import { graphql } from "../../gql";
import type { DeploymentSource, DeploymentStatus, HistoryRowFragment } from "../../gql/graphql";
import { Empty, ErrorMessage, Loading, PageHeading, VisuallyHidden } from "../components/feedback";
import { StatusSummary } from "../components/tenant-environment-status";
import { Badge, Revision, Time } from "../components/values";
import { Link, navigate, path, usePageTitle } from "../router";
import { roleRefusal } from "../session-context";

export const PAGE_SIZE = 50;
const ROLE_REASON_ID = "rollback-role-why";

const HistoryHeader = graphql(`
  query HistoryHeader($project: String!, $tenant: String!, $environment: String!) {
    project(slug: $project) {
      id
      slug
      viewerRole
    }
    tenantEnvironment(project: $project, tenant: $tenant, environment: $environment) {
      ...TenantEnvironmentStatus
    }
  }
`);

export const HistoryRow = graphql(`
  fragment HistoryRow on Deployment {
    id
    revision
    shortRevision
    deployedAt
    summary
    source
    status
    author {
      id
      email
      name
    }
    changes {
      file
      path
      service
    }
  }
`);

export const HistoryChunkQuery = graphql(`
  query HistoryChunk($project: String!, $tenant: String!, $environment: String!, $first: Int!, $after: String, $source: DeploymentSource, $status: DeploymentStatus) {
    deploymentHistory(project: $project, tenant: $tenant, environment: $environment, first: $first, after: $after, source: $source, status: $status) {
      totalCount
      pageInfo {
        endCursor
        hasNextPage
      }
      nodes {
        ...HistoryRow
      }
    }
  }
`);

const HistoryDeployments = graphql(`
  subscription HistoryDeployments($project: String!, $tenant: String!, $environment: String!) {
    deploymentRecorded(project: $project, tenant: $tenant, environment: $environment) {
      id
    }
  }
`);

const HistorySync = graphql(`
  subscription HistorySync($project: String!, $tenant: String!, $environment: String!) {
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

interface Filters {
  source: DeploymentSource | null;
  status: DeploymentStatus | null;
}

export interface ChunkEnd {
  hasNextPage: boolean;
  fetching: boolean;
  totalCount: number | null;
}

/**
 * One page of the history; it renders the next page after itself with its own end cursor, so when
 * live updates refetch a page, the pages after it follow on without gaps or repeats.
 */
function HistoryChunk(props: {
  vars: { project: string; tenant: string; environment: string } & Filters;
  after: string | null;
  index: number;
  pages: number;
  refreshKey: number;
  currentRevision: string | null;
  rollbackRefusal: string | null;
  onEnd(end: ChunkEnd): void;
}) {
  const { vars, after, index, pages, refreshKey, onEnd } = props;
  const [{ data, error, fetching }, reexecute] = useQuery({ query: HistoryChunkQuery, variables: { ...vars, first: PAGE_SIZE, after } });
  const seen = useRef(refreshKey);
  useEffect(() => {
    if (seen.current === refreshKey) return;
    seen.current = refreshKey;
    reexecute({ requestPolicy: "network-only" });
  }, [refreshKey, reexecute]);
  const connection = data?.deploymentHistory;
  const rows = connection?.nodes ?? [];
  const isLast = index >= pages - 1 || (connection !== undefined && !connection.pageInfo.hasNextPage);
  useEffect(() => {
    if (isLast) onEnd({ hasNextPage: connection?.pageInfo.hasNextPage ?? false, fetching: fetching && !connection, totalCount: connection?.totalCount ?? null });
  }, [isLast, connection, fetching, onEnd]);
  useEffect(() => {
    // The benchmark reads this mark: when the first page's rows are on screen.
    if (index === 0 && rows.length > 0 && performance.getEntriesByName("history:first-page-rendered").length === 0) {
      performance.mark("history:first-page-rendered", { detail: { rows: rows.length } });
    }
  }, [index, rows.length]);

  return (
    <>
      {rows.map((row, i) => (
        <HistoryTableRow key={row.id} row={row} position={index * PAGE_SIZE + i + 1} {...props} />
      ))}
      {!connection && fetching ? (
        <tr>
          <td colSpan={7}>
            <Loading what="deployments" />
          </td>
        </tr>
      ) : null}
      {error ? (
        <tr>
          <td colSpan={7}>
            <ErrorMessage error={error} />
          </td>
        </tr>
      ) : null}
      {!isLast && connection?.pageInfo.endCursor ? <HistoryChunk {...props} after={connection.pageInfo.endCursor} index={index + 1} /> : null}
    </>
  );
}

function HistoryTableRow({
  row,
  position,
  vars,
  currentRevision,
  rollbackRefusal,
}: {
  row: HistoryRowFragment;
  position: number;
  vars: { project: string; tenant: string; environment: string };
  currentRevision: string | null;
  rollbackRefusal: string | null;
}) {
  const isCurrent = row.revision === currentRevision;
  const services = [...new Set(row.changes.map((c) => c.service).filter((s): s is string => Boolean(s)))];
  // The role's reason is said once above the table (ROLE_REASON_ID); the current row's here.
  const reasonId = `why-${row.id}`;
  const rollbackDescribedBy = isCurrent ? reasonId : rollbackRefusal ? ROLE_REASON_ID : `rev-${row.id}`;
  return (
    <tr aria-rowindex={position + 1}>
      <th scope="row">
        <Revision sha={row.revision} />
        {isCurrent ? <span className="badge info flag">current</span> : null}
      </th>
      <td>
        <Time iso={row.deployedAt} />
      </td>
      <td>{row.author.email}</td>
      <td>
        {row.summary}
        <br />
        <span className="muted">
          {row.changes.length} field change{row.changes.length === 1 ? "" : "s"}
          {services.length ? ` in ${services.join(", ")}` : ""}
        </span>
      </td>
      <td>{row.source.toLowerCase()}</td>
      <td>
        <Badge value={row.status} />
      </td>
      <td className="actions">
        <button
          type="button"
          disabled={isCurrent || rollbackRefusal !== null}
          aria-describedby={rollbackDescribedBy}
          onClick={() =>
            navigate(`${path("projects", vars.project, "rollback")}?${new URLSearchParams({ tenant: vars.tenant, environment: vars.environment, revision: row.revision })}`)
          }
        >
          Rollback to this revision
        </button>
        <button
          type="button"
          disabled={isCurrent}
          aria-describedby={isCurrent ? reasonId : `rev-${row.id}`}
          onClick={() => navigate(path("projects", vars.project, "compare", vars.tenant, vars.environment, row.revision))}
        >
          Compare with current
        </button>
        <VisuallyHidden id={`rev-${row.id}`}>revision {row.shortRevision}</VisuallyHidden>
        {isCurrent ? (
          <span id={reasonId} className="why-not">
            this is the current revision
          </span>
        ) : null}
      </td>
    </tr>
  );
}

export function HistoryPage({ project, tenant, environment }: { project: string; tenant: string; environment: string }) {
  usePageTitle(`History of ${tenant}/${environment}`);
  const [{ data, error, fetching }, reexecuteHeader] = useQuery({ query: HistoryHeader, variables: { project, tenant, environment } });
  const [filters, setFilters] = useState<Filters>({ source: null, status: null });
  const [pages, setPages] = useState(1);
  const [refreshKey, setRefreshKey] = useState(0);
  const [end, setEnd] = useState<ChunkEnd>({ hasNextPage: false, fetching: true, totalCount: null });
  const onEnd = useCallback((value: ChunkEnd) => setEnd(value), []);

  const timer = useRef<ReturnType<typeof setTimeout> | null>(null);
  const refresh = useCallback(() => {
    if (timer.current) clearTimeout(timer.current);
    timer.current = setTimeout(() => {
      setRefreshKey((k) => k + 1);
      reexecuteHeader({ requestPolicy: "network-only" });
    }, 300);
  }, [reexecuteHeader]);
  useEffect(() => () => void (timer.current && clearTimeout(timer.current)), []);
  const [deploymentFeed] = useSubscription({ query: HistoryDeployments, variables: { project, tenant, environment } }, () => (refresh(), null));
  const [syncFeed] = useSubscription({ query: HistorySync, variables: { project, tenant, environment } }, () => (refresh(), null));

  const te = data?.tenantEnvironment;
  const role = data?.project?.viewerRole;
  const setFilter = (patch: Partial<Filters>) => {
    setFilters((f) => ({ ...f, ...patch }));
    setPages(1);
  };

  return (
    <>
      <PageHeading>
        Deployment history of {tenant} / {environment}
      </PageHeading>
      <p>
        <Link href={path("projects", project)}>Back to {project}</Link>
      </p>
      {!data && fetching ? <Loading what="the tenant-environment" /> : null}
      <ErrorMessage error={error} />
      <ErrorMessage error={syncFeed.error ?? deploymentFeed.error} prefix="Live updates stopped" />
      {data && !te ? (
        <Empty>
          There is no tenant-environment {tenant}/{environment} in project “{project}” that you can see.
        </Empty>
      ) : null}
      {te ? <StatusSummary te={te} label={`Current state of ${tenant}/${environment}`} /> : null}
      {/* The rows load beside the header, not after it: the panel is what an operator came for. */}
      {!data || te ? (
        <>
          <form className="filters" aria-label="Filter the history" onSubmit={(e) => e.preventDefault()}>
            <label>
              Source
              <select value={filters.source ?? ""} onChange={(e) => setFilter({ source: (e.target.value || null) as DeploymentSource | null })}>
                <option value="">All sources</option>
                <option value="RELEASE">Release</option>
                <option value="PROMOTION">Promotion</option>
                <option value="ROLLBACK">Rollback</option>
              </select>
            </label>
            <label>
              Status
              <select value={filters.status ?? ""} onChange={(e) => setFilter({ status: (e.target.value || null) as DeploymentStatus | null })}>
                <option value="">All statuses</option>
                <option value="PENDING">Pending</option>
                <option value="SUCCESS">Success</option>
                <option value="FAILED">Failed</option>
                <option value="ROLLED_BACK">Rolled back</option>
              </select>
            </label>
            <span role="status" className="muted">
              {end.totalCount === null ? "" : `${end.totalCount} deployment${end.totalCount === 1 ? "" : "s"}`}
            </span>
          </form>
          {role && roleRefusal(role, "DEPLOYER", project) ? (
            <p id={ROLE_REASON_ID} className="notice">
              “Rollback to this revision” is disabled: {roleRefusal(role, "DEPLOYER", project)}.
            </p>
          ) : null}
          <table className="history" aria-rowcount={end.totalCount === null ? undefined : end.totalCount + 1}>
            <caption>Deployments, newest first</caption>
            <thead>
              <tr aria-rowindex={1}>
                <th scope="col">Revision</th>
                <th scope="col">Timestamp</th>
                <th scope="col">Author</th>
                <th scope="col">Changes</th>
                <th scope="col">Source</th>
                <th scope="col">Status</th>
                <th scope="col">Actions</th>
              </tr>
            </thead>
            <tbody>
              <HistoryChunk
                key={`${filters.source}-${filters.status}`}
                vars={{ project, tenant, environment, ...filters }}
                after={null}
                index={0}
                pages={pages}
                refreshKey={refreshKey}
                currentRevision={te?.currentRevision ?? null}
                rollbackRefusal={role ? roleRefusal(role, "DEPLOYER", project) : "loading your role…"}
                onEnd={onEnd}
              />
            </tbody>
          </table>
          {end.totalCount === 0 ? <Empty>No deployments match these filters.</Empty> : null}
          {end.hasNextPage ? (
            <button type="button" onClick={() => setPages((n) => n + 1)} disabled={end.fetching}>
              Load more
            </button>
          ) : null}
        </>
      ) : null}
    </>
  );
}
