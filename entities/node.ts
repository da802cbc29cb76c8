import { Field, ID, InterfaceType } from "type-graphql";

/** Ids carry their type as a prefix, so `node(id)` and interface resolution need no lookup table. */
export const ID_PREFIX = {
  User: "usr_",
  Organization: "org_",
  Project: "prj_",
  Tenant: "ten_",
  TenantEnvironment: "tenv_",
  Deployment: "dep_",
  RollbackRequest: "rbk-",
  BreakGlassSession: "bgs_",
  AuditEvent: "evt_",
  DeploymentHold: "hold_",
  AutoRollbackPolicy: "arp_",
  FreezeWindow: "frz_",
  Webhook: "whk_",
  WebhookDelivery: "whd_",
} as const;

export type NodeTypeName = keyof typeof ID_PREFIX;

export function nodeTypeOf(id: string): NodeTypeName | null {
  for (const [type, prefix] of Object.entries(ID_PREFIX)) if (id.startsWith(prefix)) return type as NodeTypeName;
  return null;
}

@InterfaceType({ resolveType: (value: { id: string }) => nodeTypeOf(value.id) ?? undefined, description: "An object with a globally unique id that node(id) can fetch again." })
export abstract class Node {
  @Field(() => ID, { description: "Globally unique id; its prefix names the type (usr_, prj_, tenv_, dep_, rbk-, ...)." })
  id: string;
}
