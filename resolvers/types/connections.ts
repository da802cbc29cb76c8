import { Field, Int, ObjectType, type ClassType } from "type-graphql";
import { AuditEvent } from "../../entities/audit-event.js";
import { Deployment } from "../../entities/deployment.js";
import { RollbackRequest } from "../../entities/rollback-request.js";
import { WebhookDelivery } from "../../entities/webhook.js";
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

/** A Relay connection of `NodeClass` (`<Node>Connection` with `<Node>Edge`), as type-graphql's examples/generic-types build one. */
export function Connection<TNode extends object>(NodeClass: ClassType<TNode>) {
  @ObjectType(`${NodeClass.name}Edge`)
  abstract class Edge {
    @Field()
    cursor: string;

    @Field(() => NodeClass)
    node: TNode;
  }

  @ObjectType()
  abstract class NodeConnection {
    @Field(() => [Edge])
    edges: Edge[];

    @Field(() => [NodeClass])
    nodes: TNode[];

    @Field(() => PageInfo)
    pageInfo: PageInfo;

    @Field(() => Int)
    totalCount: number;
  }
  return NodeConnection;
}

@ObjectType()
export class DeploymentConnection extends Connection(Deployment) {}

@ObjectType()
export class RollbackRequestConnection extends Connection(RollbackRequest) {}

@ObjectType()
export class AuditEventConnection extends Connection(AuditEvent) {}

@ObjectType()
export class WebhookDeliveryConnection extends Connection(WebhookDelivery) {}

/** A service page as a Relay connection. */
export function toConnection<T extends object>(page: Page<T>): { edges: { cursor: string; node: T }[]; nodes: T[]; pageInfo: PageInfo; totalCount: number } {
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
