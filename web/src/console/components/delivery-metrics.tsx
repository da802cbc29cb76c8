import { useQuery } from "urql";
import { graphql } from "../../gql";
import { formatDuration } from "../format";
import { ErrorMessage, Loading } from "./feedback";
import { Revision, Time } from "./values";

const DeliveryMetricsQuery = graphql(`
  query DeliveryMetrics($project: String!) {
    deliveryMetrics(project: $project) {
      tenant
      environment
      since
      until
      deployments
      deploymentsPerDay
      changeFailureRate
      rollbacks
      meanTimeToRecoverySeconds
      recurringRollbacks {
        service
        targetRevision
        count
        lastAt
      }
    }
  }
`);

const percent = new Intl.NumberFormat(undefined, { style: "percent", maximumFractionDigits: 1 });
const rate = new Intl.NumberFormat(undefined, { maximumFractionDigits: 2 });

/** DORA figures per tenant-environment over the last 30 days, and the rollback targets that keep coming back. */
export function DeliveryMetricsPanel({ project }: { project: string }) {
  const [{ data, error, fetching }] = useQuery({ query: DeliveryMetricsQuery, variables: { project } });
  const rows = data?.deliveryMetrics ?? [];
  const recurring = rows.flatMap((m) => m.recurringRollbacks.map((r) => ({ ...r, tenant: m.tenant, environment: m.environment })));
  return (
    <section aria-labelledby="delivery-metrics">
      <h2 id="delivery-metrics">Delivery metrics</h2>
      {!data && fetching ? <Loading what="the delivery metrics" /> : null}
      <ErrorMessage error={error} />
      {rows.length > 0 ? (
        <table className="overview">
          <caption>Delivery metrics, last 30 days (releases and promotions; a failure is a deployment that ended failed or rolled back)</caption>
          <thead>
            <tr>
              <th scope="col">Tenant-environment</th>
              <th scope="col">Deployments</th>
              <th scope="col">Per day</th>
              <th scope="col">Change failure rate</th>
              <th scope="col">Rollbacks</th>
              <th scope="col">Mean time to recovery</th>
            </tr>
          </thead>
          <tbody>
            {rows.map((m) => (
              <tr key={`${m.tenant}/${m.environment}`}>
                <th scope="row">
                  {m.tenant} / {m.environment}
                </th>
                <td>{m.deployments}</td>
                <td>{rate.format(m.deploymentsPerDay)}</td>
                <td>{m.deployments ? percent.format(m.changeFailureRate) : "—"}</td>
                <td>{m.rollbacks}</td>
                <td>{m.meanTimeToRecoverySeconds === null ? "—" : formatDuration(m.meanTimeToRecoverySeconds)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      ) : null}
      {data && recurring.length > 0 ? (
        <table className="overview">
          <caption>Recurring rollbacks: targets rolled back to more than once, a problem to fix at the root</caption>
          <thead>
            <tr>
              <th scope="col">Tenant-environment</th>
              <th scope="col">Service</th>
              <th scope="col">Target revision</th>
              <th scope="col">Times</th>
              <th scope="col">Last</th>
            </tr>
          </thead>
          <tbody>
            {recurring.map((r) => (
              <tr key={`${r.tenant}/${r.environment}/${r.service ?? ""}/${r.targetRevision}`}>
                <th scope="row">
                  {r.tenant} / {r.environment}
                </th>
                <td>{r.service ?? "all (full rollback)"}</td>
                <td>
                  <Revision sha={r.targetRevision} />
                </td>
                <td>{r.count}</td>
                <td>
                  <Time iso={r.lastAt} />
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      ) : data ? (
        <p className="muted">No target was rolled back to more than once in the last 30 days.</p>
      ) : null}
    </section>
  );
}
