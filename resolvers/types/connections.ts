import { Field, Int, ObjectType, type ClassType } from "type-graphql";
import { AuditEvent } from "../../entities/audit-event.js";
import { Deployment } from "../../entities/deployment.js";
import { RollbackRequest } from "../../entities/rollback-request.js";
import { WebhookDelivery } from "../../entities/webhook.js";
import type { Page } from "../../src/services/paging.js";

@ObjectType({ description: "Where a page lies in its list (Relay cursor connections)." })
export class PageInfo {
  @Field({ description: "True when items follow this page: page on with first and after: endCursor." })
  hasNextPage: boolean;

  @Field({ description: "True when items precede this page: page back with last and before: startCursor." })
  hasPreviousPage: boolean;

  @Field(() => String, { nullable: true, description: "Cursor of the page's first item; null for an empty page." })
  startCursor: string | null;

  @Field(() => String, { nullable: true, description: "Cursor of the page's last item; null for an empty page." })
  endCursor: string | null;
}

/** A Relay connection of `NodeClass` (`<Node>Connection` with `<Node>Edge`), as type-graphql's examples/generic-types build one. */
export function Connection<TNode extends object>(NodeClass: ClassType<TNode>) {
  @ObjectType(`${NodeClass.name}Edge`, { description: `One ${NodeClass.name} of a page, with its cursor.` })
  abstract class Edge {
    @Field({ description: "Opaque cursor of this item: pass it as after or before to page on from it." })
    cursor: string;

    @Field(() => NodeClass, { description: "The item." })
    node: TNode;
  }

  @ObjectType()
  abstract class NodeConnection {
    @Field(() => [Edge], { description: "The page's items with their cursors, in list order." })
    edges: Edge[];

    @Field(() => [NodeClass], { description: "The page's items, in list order (the edges' nodes, for clients that need no cursors)." })
    nodes: TNode[];

    @Field(() => PageInfo, { description: "Whether more items lie before or after this page, and the cursors to page on." })
    pageInfo: PageInfo;

    @Field(() => Int, { description: "How many items the whole list has, with its filters, across all pages." })
    totalCount: number;
  }
  return NodeConnection;
}

@ObjectType({ description: "A page of deployments (Relay cursor connection): forward with first and after, backward with last and before." })
export class DeploymentConnection extends Connection(Deployment) {}

@ObjectType({ description: "A page of rollback requests (Relay cursor connection): forward with first and after, backward with last and before." })
export class RollbackRequestConnection extends Connection(RollbackRequest) {}

@ObjectType({ description: "A page of audit events (Relay cursor connection): forward with first and after, backward with last and before." })
export class AuditEventConnection extends Connection(AuditEvent) {}

@ObjectType({ description: "A page of webhook deliveries (Relay cursor connection): forward with first and after, backward with last and before." })
export class WebhookDeliveryConnection extends Connection(WebhookDelivery) {}

/** An edge whose cursor is encoded when a client asks for it (most pages are read for their nodes). */
class PageEdge<T extends object> {
  constructor(
    readonly node: T,
    private readonly page: Page<T>,
  ) {}

  get cursor(): string {
    return this.page.cursorOf(this.node);
  }
}

/** A service page as a Relay connection. */
export function toConnection<T extends object>(page: Page<T>): { edges: { cursor: string; node: T }[]; nodes: T[]; pageInfo: PageInfo; totalCount: number } {
  const items = page.items;
  const first = items[0];
  const last = items[items.length - 1];
  return {
    edges: items.map((node) => new PageEdge(node, page)),
    nodes: items,
    totalCount: page.totalCount,
    pageInfo: {
      hasNextPage: page.hasNextPage,
      hasPreviousPage: page.hasPreviousPage,
      startCursor: first ? page.cursorOf(first) : null,
      endCursor: last ? page.cursorOf(last) : null,
    },
  };
}
