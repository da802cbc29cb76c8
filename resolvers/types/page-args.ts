import { Kind, type GraphQLResolveInfo } from "graphql";
import { ArgsType, createParameterDecorator, Field, Int } from "type-graphql";
import type { PageRequest } from "../../src/services/paging.js";
import type { RequestContext } from "../context.js";

/** The backward half of a connection's paging arguments; each connection declares its own `first` (defaults differ) and `after`. */
@ArgsType()
export class BackwardPageArgs {
  @Field(() => Int, { nullable: true, description: "Page backward: the last this many items before `before` (or of the list); not together with first. At most 500." })
  last?: number | null;

  @Field(() => String, { nullable: true, description: "Cursor (an edge's cursor or pageInfo.startCursor) to page backward from, exclusive." })
  before?: string | null;
}

/** Whether the operation gave `first` itself: the schema's default for it is no request to page forward. */
function firstGiven(info: GraphQLResolveInfo): boolean {
  const arg = info.fieldNodes[0]?.arguments?.find((a) => a.name.value === "first");
  if (!arg) return false;
  return arg.value.kind !== Kind.VARIABLE || info.variableValues[arg.value.name.value] !== undefined;
}

/** A connection's paging arguments as the pager takes them (`@Paging() paging: PageRequest`); `first` is null unless the caller gave it. */
export function Paging() {
  return createParameterDecorator<RequestContext>(({ args, info }): PageRequest => {
    const a = args as PageRequest;
    return { first: firstGiven(info) ? a.first : null, after: a.after, last: a.last, before: a.before };
  });
}
