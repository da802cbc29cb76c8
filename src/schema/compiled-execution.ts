import type { ApolloServerOptionsWithGateway } from "@apollo/server";
import { execute, getVariableValues, Kind, OperationTypeNode, type DocumentNode, type ExecutionResult, type GraphQLSchema, type OperationDefinitionNode } from "graphql";
import { compileQuery, isCompiledQuery, type CompiledQuery } from "graphql-jit";
import { LRUCache } from "lru-cache";

type Gateway = NonNullable<ApolloServerOptionsWithGateway<never>["gateway"]>;
type Executor = NonNullable<Awaited<ReturnType<Gateway["load"]>>["executor"]>;

export interface CompiledExecutionOptions {
  /** A query document is compiled on its this-many-th execution; one seen fewer times runs on graphql-js; 0: never. */
  compileAfter: number;
  /** Compiled queries kept (least recently used dropped). */
  maxCompiled: number;
  /**
   * Compilations per minute at most: compiling the largest operation the query limits let through
   * takes tens of milliseconds, so a client cycling through distinct large queries cannot turn
   * compilation into a way to burn the event loop. Past the budget, queries run on graphql-js.
   */
  maxCompilesPerMinute: number;
}

export const DEFAULT_COMPILED_EXECUTION: CompiledExecutionOptions = { compileAfter: 3, maxCompiled: 500, maxCompilesPerMinute: 120 };

interface Entry {
  executions: number;
  compiled: CompiledQuery | null;
  /** graphql-jit refused it: it stays on graphql-js, not compiled again on every execution. */
  uncompilable: boolean;
}

/**
 * Query operations executed by graphql-jit: a document the server keeps seeing is compiled once into
 * a function that resolves its selection without graphql-js's per-field work (argument values,
 * resolve info, completion dispatch), which was most of a history page's cost (650 fields). Only
 * queries: mutations and subscriptions, one-off queries, queries whose variables do not coerce and
 * introspection keep graphql-js's own execution, so their errors read exactly as before. Apollo Server
 * 5 takes a custom executor only through its gateway interface; this is a gateway over the local schema.
 */
export class CompiledExecution {
  // Apollo's document store hands out the same DocumentNode for the same query text, so the
  // document itself is the key; bounded, and a document Apollo dropped ages out here too.
  private readonly entries: LRUCache<DocumentNode, Map<string, Entry>>;
  private readonly seen = new WeakMap<DocumentNode, Map<string, Entry>>();
  private readonly options: CompiledExecutionOptions;

  constructor(
    private readonly schema: GraphQLSchema,
    options: Partial<CompiledExecutionOptions> = {},
  ) {
    this.options = { ...DEFAULT_COMPILED_EXECUTION, ...options };
    this.entries = new LRUCache({
      max: this.options.maxCompiled,
      // Dropped means dropped: the document (still in `seen` while Apollo keeps it) starts counting again.
      dispose: (byName) => {
        for (const entry of byName.values()) Object.assign(entry, { executions: 0, compiled: null });
      },
    });
  }

  /** The gateway Apollo Server is given instead of `schema`. */
  gateway(): Gateway {
    return {
      onSchemaLoadOrUpdate: (callback) => {
        callback({ apiSchema: this.schema, coreSupergraphSdl: "" });
        return () => {};
      },
      load: () => Promise.resolve({ executor: this.executor }),
      stop: () => Promise.resolve(),
    };
  }

  /** How many compiled queries are kept now. */
  get compiledCount(): number {
    return this.entries.size;
  }

  private readonly executor: Executor = async (requestContext) => {
    const { document, operation, request, context } = requestContext;
    const compiled = this.compiledFor(document, operation, request.operationName ?? null);
    if (compiled && this.variablesCoerce(operation, request.variables)) {
      return (await compiled.query(undefined, context, request.variables ?? {})) as ExecutionResult;
    }
    return execute({ schema: this.schema, document, contextValue: context, variableValues: request.variables, operationName: request.operationName });
  };

  private compiledFor(document: DocumentNode, operation: OperationDefinitionNode, operationName: string | null): CompiledQuery | null {
    if (this.options.compileAfter === 0 || operation.operation !== OperationTypeNode.QUERY || selectsIntrospection(operation)) return null;
    const key = operationName ?? "";
    let byName = this.entries.get(document) ?? this.seen.get(document);
    if (!byName) {
      byName = new Map();
      this.seen.set(document, byName);
    }
    let entry = byName.get(key);
    if (!entry) {
      entry = { executions: 0, compiled: null, uncompilable: false };
      byName.set(key, entry);
    }
    if (entry.compiled || entry.uncompilable) return entry.compiled;
    entry.executions++;
    if (entry.executions < this.options.compileAfter || !this.takeCompileToken()) return null;
    const result = compileQuery(this.schema, document, operationName ?? undefined, { disablingCapturingStackErrors: true });
    if (!isCompiledQuery(result)) {
      entry.uncompilable = true;
      return null;
    }
    entry.compiled = result;
    this.entries.set(document, byName);
    return result;
  }

  private compileTokens: number | null = null;
  private tokensAt = 0;

  /** A token bucket of maxCompilesPerMinute, refilled continuously. */
  private takeCompileToken(): boolean {
    const now = performance.now();
    const max = this.options.maxCompilesPerMinute;
    this.compileTokens = Math.min(max, (this.compileTokens ?? max) + ((now - this.tokensAt) * max) / 60_000);
    this.tokensAt = now;
    if (this.compileTokens < 1) return false;
    this.compileTokens -= 1;
    return true;
  }

  /** graphql-js's own coercion decides: a request whose variables fail it runs on graphql-js, for graphql-js's errors. */
  private variablesCoerce(operation: OperationDefinitionNode, variables: Record<string, unknown> | undefined): boolean {
    if (!operation.variableDefinitions?.length) return true;
    return !("errors" in getVariableValues(this.schema, operation.variableDefinitions, variables ?? {}, { maxErrors: 1 }));
  }
}

/** `__schema` or `__type` at the root: introspection stays on graphql-js (rare, and the explorer's). */
function selectsIntrospection(operation: OperationDefinitionNode): boolean {
  return operation.selectionSet.selections.some((s) => s.kind === Kind.FIELD && (s.name.value === "__schema" || s.name.value === "__type"));
}
