import { Field, Int, ObjectType } from "type-graphql";
import { WebhookDelivery } from "../../entities/webhook.js";
import { PageInfo } from "./connections.js";

@ObjectType()
export class WebhookDeliveryEdge {
  @Field()
  cursor: string;

  @Field(() => WebhookDelivery)
  node: WebhookDelivery;
}

@ObjectType()
export class WebhookDeliveryConnection {
  @Field(() => [WebhookDeliveryEdge])
  edges: WebhookDeliveryEdge[];

  @Field(() => [WebhookDelivery])
  nodes: WebhookDelivery[];

  @Field(() => PageInfo)
  pageInfo: PageInfo;

  @Field(() => Int)
  totalCount: number;
}
