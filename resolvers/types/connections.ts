import { Field, Int, ObjectType } from "type-graphql";
import { AuditEvent } from "../../entities/audit-event.js";
import { Deployment } from "../../entities/deployment.js";
import { RollbackRequest } from "../../entities/rollback-request.js";
import type { Page } from "../../src/services/paging.js";

@ObjectType()
export class PageInfo {
  @Field()
  hasNextPage: boolean;

  @Field()
  hasPreviousPage: boolean;

  @Field(() => String, { nullable: true })
  startCursor: string | null;

  @Field(() => String, { nullable: true })
  endCursor: string | null;
}

@ObjectType()
export class DeploymentEdge {
  @Field()
  cursor: string;

  @Field(() => Deployment)
  node: Deployment;
}

@ObjectType()
export class DeploymentConnection {
  @Field(() => [DeploymentEdge])
  edges: DeploymentEdge[];

  @Field(() => [Deployment])
  nodes: Deployment[];

  @Field(() => PageInfo)
  pageInfo: PageInfo;

  @Field(() => Int)
  totalCount: number;
}

@ObjectType()
export class RollbackRequestEdge {
  @Field()
  cursor: string;

  @Field(() => RollbackRequest)
  node: RollbackRequest;
}

@ObjectType()
export class RollbackRequestConnection {
  @Field(() => [RollbackRequestEdge])
  edges: RollbackRequestEdge[];

  @Field(() => [RollbackRequest])
  nodes: RollbackRequest[];

  @Field(() => PageInfo)
  pageInfo: PageInfo;

  @Field(() => Int)
  totalCount: number;
}

@ObjectType()
export class AuditEventEdge {
  @Field()
  cursor: string;

  @Field(() => AuditEvent)
  node: AuditEvent;
}

@ObjectType()
export class AuditEventConnection {
  @Field(() => [AuditEventEdge])
  edges: AuditEventEdge[];

  @Field(() => [AuditEvent])
  nodes: AuditEvent[];

  @Field(() => PageInfo)
  pageInfo: PageInfo;

  @Field(() => Int)
  totalCount: number;
}

/** A service page as a Relay connection. */
export function toConnection<T>(page: Page<T>): { edges: { cursor: string; node: T }[]; nodes: T[]; pageInfo: PageInfo; totalCount: number } {
  const edges = page.items.map((node) => ({ cursor: page.cursorOf(node), node }));
  return {
    edges,
    nodes: page.items,
    totalCount: page.totalCount,
    pageInfo: {
      hasNextPage: page.hasNextPage,
      hasPreviousPage: page.hasPreviousPage,
      startCursor: edges[0]?.cursor ?? null,
      endCursor: edges[edges.length - 1]?.cursor ?? null,
    },
  };
}
