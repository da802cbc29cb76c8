import { graphql } from "../../gql";
import type { TenantEnvironmentStatusFragment } from "../../gql/graphql";
import { Badge, Revision, Time } from "./values";

export const TenantEnvironmentStatus = graphql(`
  fragment TenantEnvironmentStatus on TenantEnvironment {
    id
    name
    path
    currentRevision
    latestDeployment {
      id
      shortRevision
      status
      source
      deployedAt
      summary
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
`);

/** Where a tenant-environment stands now: revision, newest deployment, what its agent last said. */
export function StatusSummary({ te, label }: { te: TenantEnvironmentStatusFragment; label: string }) {
  return (
    <div role="group" aria-label={label}>
      <dl className="status-summary">
        <div>
          <dt>Current revision</dt>
          <dd>
            <Revision sha={te.currentRevision} />
          </dd>
        </div>
        <div>
          <dt>Newest deployment</dt>
          <dd>
            {te.latestDeployment ? (
              <>
                <Badge value={te.latestDeployment.status} /> {te.latestDeployment.summary}
              </>
            ) : (
              "none yet"
            )}
          </dd>
        </div>
        <div>
          <dt>Agent</dt>
          <dd>
            <Badge value={te.sync.agent} />
          </dd>
        </div>
        <div>
          <dt>Sync</dt>
          <dd>
            <Badge value={te.sync.state} />{" "}
            {te.sync.revision ? (
              <>
                at <Revision sha={te.sync.revision} />
              </>
            ) : null}
          </dd>
        </div>
        <div>
          <dt>Health</dt>
          <dd>
            <Badge value={te.sync.health} />
          </dd>
        </div>
        <div>
          <dt>Drift</dt>
          <dd>{te.sync.drift.length === 0 ? "none" : `${te.sync.drift.length} item${te.sync.drift.length === 1 ? "" : "s"}`}</dd>
        </div>
        <div>
          <dt>Last report</dt>
          <dd>
            <Time iso={te.sync.lastReportAt} />
          </dd>
        </div>
      </dl>
    </div>
  );
}
