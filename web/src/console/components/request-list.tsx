import { graphql } from "../../gql";
import type { RequestRowFragment } from "../../gql/graphql";
import { Link, path } from "../router";
import { Badge, Revision, Time } from "./values";

export const RequestRow = graphql(`
  fragment RequestRow on RollbackRequest {
    id
    project
    state
    mode
    tenant
    environment
    service
    targetSha
    breakGlass
    approvals
    requiredApprovals
    createdAt
    justification
    requestedBy {
      id
      email
    }
  }
`);

export function RequestList({ caption, requests }: { caption: string; requests: RequestRowFragment[] }) {
  return (
    <table>
      <caption>{caption}</caption>
      <thead>
        <tr>
          <th scope="col">Request</th>
          <th scope="col">State</th>
          <th scope="col">Scope</th>
          <th scope="col">Target</th>
          <th scope="col">Requested by</th>
          <th scope="col">Created</th>
          <th scope="col">Approvals</th>
        </tr>
      </thead>
      <tbody>
        {requests.map((r) => (
          <tr key={r.id}>
            <th scope="row">
              <Link href={path("projects", r.project, "requests", r.id)}>{r.id}</Link>
              {r.breakGlass ? <span className="badge bad flag">Break-glass</span> : null}
            </th>
            <td>
              <Badge value={r.state} />
            </td>
            <td>
              {r.mode.toLowerCase()}
              {r.service ? ` ${r.service}` : ""} in {r.tenant}/{r.environment}
            </td>
            <td>
              <Revision sha={r.targetSha} />
            </td>
            <td>{r.requestedBy.email}</td>
            <td>
              <Time iso={r.createdAt} />
            </td>
            <td>
              {r.approvals} of {r.requiredApprovals}
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}
