import type { ApolloServerPlugin } from "@apollo/server";
import { maxAliasesRule } from "@escape.tech/graphql-armor-max-aliases";
import { maxDepthRule } from "@escape.tech/graphql-armor-max-depth";
import { maxDirectivesRule } from "@escape.tech/graphql-armor-max-directives";
import { getNullableType, GraphQLError, isListType, type DocumentNode, type GraphQLSchema, type ParseOptions, type ValidationContext, type ValidationRule } from "graphql";
// The CommonJS build: its ESM build imports graphql/index.mjs, another instance than the server's.
import { getComplexity, type ComplexityEstimator } from "graphql-query-complexity/cjs";

/** Bounds every operation must fit before it runs (QUERY_MAX_* variables). */
export interface QueryLimits {
  maxDepth: number;
  maxAliases: number;
  maxDirectives: number;
  maxTokens: number;
  maxCost: number;
}

/** How many items a list without a `first` argument is assumed to hold when estimating cost. */
export const ASSUMED_LIST_SIZE = 10;

/** The variable each limit is set by; error messages name it, so an operator knows what to raise. */
const VARIABLE = { depth: "QUERY_MAX_DEPTH", aliases: "QUERY_MAX_ALIASES", directives: "QUERY_MAX_DIRECTIVES", tokens: "QUERY_MAX_TOKENS", cost: "QUERY_MAX_COST" } as const;

function limitError(message: string, variable: string): GraphQLError {
  return new GraphQLError(`${message} (${variable})`, { extensions: { code: "GRAPHQL_VALIDATION_FAILED", status: 400, limit: variable } });
}

/** Armor reports "Syntax Error: Query depth limit of 12 exceeded, found 33."; we report it on the context with the variable. */
function reportTo(variable: string) {
  return [(ctx: ValidationContext | null, err: GraphQLError) => ctx?.reportError(limitError(err.message.replace(/^Syntax Error: /, "").replace(/\.$/, ""), variable))];
}

/**
 * Depth, alias and directive limits as validation rules (GraphQL Armor), run with graphql-js's
 * own rules over HTTP and WebSocket. Introspection's __schema is not counted against depth:
 * GraphiQL's introspection query is deep by nature and bounded by the schema.
 */
export function limitRules(limits: QueryLimits): ValidationRule[] {
  return [
    maxDepthRule({ n: limits.maxDepth, flattenFragments: true, ignoreIntrospection: true, propagateOnRejection: false, onReject: reportTo(VARIABLE.depth) }),
    maxAliasesRule({ n: limits.maxAliases, propagateOnRejection: false, onReject: reportTo(VARIABLE.aliases) }),
    maxDirectivesRule({ n: limits.maxDirectives, propagateOnRejection: false, onReject: reportTo(VARIABLE.directives) }),
  ] as ValidationRule[];
}

/** graphql-js stops parsing past this many tokens, before building a large AST. */
export function parseOptions(limits: QueryLimits): ParseOptions {
  return { maxTokens: limits.maxTokens };
}

/**
 * Each field costs 1 plus its selection; a list multiplies its selection by `first` (or `last`)
 * when it has one, else by ASSUMED_LIST_SIZE. A connection's edges and nodes are the page its
 * field's `first` already counted. Introspection costs nothing (bounded by the schema).
 */
export const estimator: ComplexityEstimator = ({ type, field, args, childComplexity }) => {
  if (field.name.startsWith("__")) return 0;
  const pageSize = typeof args.first === "number" ? args.first : typeof args.last === "number" ? args.last : null;
  const inPage = type.name.endsWith("Connection") && (field.name === "edges" || field.name === "nodes");
  const returnsList = isListType(getNullableType(field.type));
  const multiplier = pageSize !== null ? Math.max(pageSize, 1) : returnsList && !inPage ? ASSUMED_LIST_SIZE : 1;
  return 1 + multiplier * childComplexity;
};

/** The operation's estimated cost, or a coded error past maxCost (fragments expanded, variables applied). */
export function costError(
  schema: GraphQLSchema,
  document: DocumentNode,
  variables: Record<string, unknown> | undefined,
  operationName: string | null | undefined,
  limits: QueryLimits,
): GraphQLError | null {
  let cost: number;
  try {
    cost = getComplexity({
      schema,
      query: document,
      variables: variables ?? {},
      operationName: operationName ?? undefined,
      estimators: [estimator],
      maxQueryNodes: Math.max(limits.maxCost, 10_000),
    });
  } catch (err) {
    // More selections once fragments are expanded than the cost limit allows (each costs at least 1).
    if (err instanceof GraphQLError && /maximum allowed number of nodes/.test(err.message)) return limitError(`Query cost limit of ${limits.maxCost} exceeded`, VARIABLE.cost);
    // Variables that do not coerce: execution refuses them (BAD_USER_INPUT) before anything runs.
    if (err instanceof GraphQLError) return null;
    throw err;
  }
  return cost > limits.maxCost ? limitError(`Query cost limit of ${limits.maxCost} exceeded, found ${Math.round(cost)}`, VARIABLE.cost) : null;
}

/** Variables longer than this (as JSON) are not worth a cache key: their operations are priced each time. */
const MAX_CACHED_VARIABLES_CHARS = 512;
/** Priced variants kept per document (a document's variables rarely vary beyond a few page sizes). */
const MAX_PRICES_PER_DOCUMENT = 64;

/**
 * The outcome of the cost check per document, operation and variables: a dashboard repeats the
 * same few operations, and pricing walks the whole document with its fragments expanded each time.
 * Keyed by the parsed document Apollo's document store hands out again for the same text.
 */
export class CostCache {
  private readonly passed = new WeakMap<DocumentNode, Set<string>>();

  /** `price`'s error, or null; a variant that passed once is not priced again (a refusal is, each time: each gets its own error). */
  of(document: DocumentNode, operationName: string | null | undefined, variables: Record<string, unknown> | undefined, price: () => GraphQLError | null): GraphQLError | null {
    const json = variables ? JSON.stringify(variables) : "";
    if (json.length > MAX_CACHED_VARIABLES_CHARS) return price();
    const key = `${operationName ?? ""}\u0000${json}`;
    let passed = this.passed.get(document);
    if (passed?.has(key)) return null;
    const error = price();
    if (error) return error;
    if (!passed) this.passed.set(document, (passed = new Set()));
    if (passed.size >= MAX_PRICES_PER_DOCUMENT) passed.clear();
    passed.add(key);
    return null;
  }
}

/** Apollo Server: the cost check once the operation (and its variables) are known, before execution. */
export function costLimitPlugin(limits: QueryLimits): ApolloServerPlugin {
  const costs = new CostCache();
  return {
    async requestDidStart() {
      return {
        async didResolveOperation({ schema, document, request, operationName }) {
          const error = costs.of(document, operationName, request.variables, () => costError(schema, document, request.variables, operationName, limits));
          if (error) {
            error.extensions.http = { status: 400 };
            throw error;
          }
        },
      };
    },
  };
}
