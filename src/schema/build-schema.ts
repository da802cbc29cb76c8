import "reflect-metadata";
import { isInterfaceType, lexicographicSortSchema, printSchema, type GraphQLSchema } from "graphql";
import { buildSchema, getMetadataStorage, type ContainerType } from "type-graphql";
import type { RequestContext } from "../../resolvers/context.js";
import { forbidden } from "../errors.js";
import { DateTimeScalar } from "../../entities/scalars.js";
import { nodeTypeOf } from "../../entities/node.js";
import { RESOLVERS } from "../../resolvers/index.js";
import { validateArguments } from "./argument-validation.js";
import type { Services } from "../app.js";
import { createEventBus, type AppPubSub } from "../services/events.js";

/** Gives each resolver class one instance, constructed with the services. */
class ServiceContainer implements ContainerType {
  private readonly instances = new Map<unknown, unknown>();

  constructor(private readonly services: Services | null) {}

  get(someClass: new (services: Services | null) => unknown): unknown {
    let instance = this.instances.get(someClass);
    if (!instance) {
      instance = new someClass(this.services);
      this.instances.set(someClass, instance);
    }
    return instance;
  }
}

/**
 * Cluster agent tokens may call reportSyncStatus, and subscribe to deploymentRecorded of their
 * own project (to sync the moment something is committed), and nothing else, whatever the
 * operation: refused at the root field, so an agent cannot even probe which ids exist. Only root
 * fields are wrapped (a global middleware would run on every field of every result, subscriptions included).
 */
const AGENT_ROOT_FIELDS = new Set(["reportSyncStatus", "deploymentRecorded"]);

function restrictAgentsToReportSync(schema: GraphQLSchema): GraphQLSchema {
  const guard = (context: RequestContext | undefined) => {
    if (context?.actor?.kind === "agent") throw forbidden("agent tokens can only call reportSyncStatus");
  };
  for (const type of [schema.getQueryType(), schema.getMutationType(), schema.getSubscriptionType()]) {
    for (const field of Object.values(type?.getFields() ?? {})) {
      if (AGENT_ROOT_FIELDS.has(field.name)) continue;
      const { resolve, subscribe } = field;
      if (resolve) {
        field.resolve = (source, args, context: RequestContext, info) => {
          guard(context);
          return resolve(source, args, context, info);
        };
      }
      if (subscribe) {
        field.subscribe = (source, args, context: RequestContext, info) => {
          guard(context);
          return subscribe(source, args, context, info);
        };
      }
    }
  }
  return schema;
}

/**
 * type-graphql wraps an interface's resolveType in an async function; graphql-jit (which runs the
 * queries, src/schema/compiled-execution.ts) needs the type at once, as graphql-js allows. A Node's
 * id prefix names its type, so the answer is synchronous anyway.
 */
function resolveNodeTypesAtOnce(schema: GraphQLSchema): GraphQLSchema {
  const node = schema.getType("Node");
  if (isInterfaceType(node)) node.resolveType = (value: { id: string }) => nodeTypeOf(value.id) ?? undefined;
  return schema;
}

/** type-graphql has no option for the root types' descriptions. */
const ROOT_DESCRIPTIONS = {
  Query:
    "Reads: projects, histories, comparisons, previews, rollback requests, the audit trail. A nullable field that fails is null with its own error; the other fields keep their data.",
  Mutation: "Changes: deployments, rollback requests and reviews, policies, break-glass sessions, holds, freeze windows, webhooks, agents' sync reports.",
  Subscription: "Live events over graphql-ws on /graphql: rollback request updates, recorded deployments, sync status changes.",
};

function describeRootTypes(schema: GraphQLSchema): GraphQLSchema {
  for (const type of [schema.getQueryType(), schema.getMutationType(), schema.getSubscriptionType()]) {
    if (type) type.description = ROOT_DESCRIPTIONS[type.name as keyof typeof ROOT_DESCRIPTIONS];
  }
  return schema;
}

/**
 * type-graphql gives every plain property field a resolver that runs the field's middlewares,
 * even when there are none. Nothing here uses field middlewares or `@Authorized`, so a property
 * field whose schema name is its property name resolves as the property it is: graphql's default
 * resolver, which graphql-jit inlines (a history page has 650 of them). A renamed field keeps
 * type-graphql's resolver (the default one would read the schema name); should a middleware or an
 * auth rule ever be declared, every field keeps it.
 */
function resolvePlainFieldsAsProperties(): void {
  const storage = getMetadataStorage();
  if (storage.middlewares.length > 0 || storage.authorizedFields.length > 0 || storage.resolverMiddlewares.length > 0) return;
  for (const field of storage.fields) {
    if (field.name === field.schemaName) field.simple ??= true;
  }
}

/** The executable schema. Without services it still builds, for emitting the SDL. */
export async function buildAppSchema(services: Services | null, pubSub?: AppPubSub): Promise<GraphQLSchema> {
  resolvePlainFieldsAsProperties();
  const schema = await buildSchema({
    resolvers: [...RESOLVERS],
    container: new ServiceContainer(services),
    // Subscriptions use their own `subscribe` functions on the app's event bus; type-graphql still wants one.
    pubSub: (pubSub ?? services?.events.bus ?? createEventBus()) as never,
    scalarsMap: [{ type: Date, scalar: DateTimeScalar }],
    validate: false,
  });
  // Agents are refused before their arguments are looked at.
  return describeRootTypes(restrictAgentsToReportSync(validateArguments(resolveNodeTypesAtOnce(schema))));
}

export const SCHEMA_HEADER = "# Emitted by `npm run schema` from the type-graphql resolvers. Do not edit by hand.\n\n";

/** The SDL kept in schema/schema.graphql: sorted, so diffs show real changes only. */
export function printAppSchema(schema: GraphQLSchema): string {
  return `${SCHEMA_HEADER}${printSchema(lexicographicSortSchema(schema))}\n`;
}
