import { createSourceEventStream, execute, print, type ExecutionArgs, type ExecutionResult } from "graphql";

type Result = ExecutionResult | Promise<ExecutionResult>;

/**
 * graphql's `subscribe`, except that subscribers asking for the same thing share one execution
 * per event: many dashboards on one request (one WebSocket each) would otherwise run the same
 * selection on the same payload once per socket. "The same thing" is the same caller (`callerKey`
 * of the context: resolvers may depend on who asks), operation text, operation name and
 * variables; "the same event" is the same published payload object, which the event bus hands to
 * every subscriber of a topic. Results are kept beside the payload only while it is alive.
 */
export function sharedSubscribe(callerKey: (context: unknown) => string) {
  const resultsByPayload = new WeakMap<object, Map<string, Result>>();

  return async (args: ExecutionArgs): Promise<AsyncIterableIterator<ExecutionResult> | ExecutionResult> => {
    const stream = await createSourceEventStream(args);
    if (!isAsyncIterable(stream)) return stream; // errors before any event: sent once, as graphql does
    const key = [callerKey(args.contextValue), args.operationName ?? "", JSON.stringify(args.variableValues ?? {}), print(args.document)].join("\u0000");
    const run = (payload: unknown): Result => {
      if (payload === null || typeof payload !== "object") return execute({ ...args, rootValue: payload });
      let results = resultsByPayload.get(payload);
      if (!results) {
        results = new Map();
        resultsByPayload.set(payload, results);
      }
      let result = results.get(key);
      if (!result) {
        result = execute({ ...args, rootValue: payload });
        results.set(key, result);
      }
      return result;
    };
    return mapIterator(stream[Symbol.asyncIterator](), run);
  };
}

/**
 * An iterator of fn(value) whose return() reaches the source at once, also while a next() waits
 * for an event (an async generator would queue the return behind that next(): an unsubscribe
 * would hang until the topic's next event).
 */
function mapIterator<T, U>(source: AsyncIterator<T>, fn: (value: T) => U | Promise<U>): AsyncIterableIterator<U> {
  return {
    async next() {
      const step = await source.next();
      return step.done ? { done: true, value: undefined } : { done: false, value: await fn(step.value) };
    },
    async return() {
      await source.return?.();
      return { done: true, value: undefined };
    },
    async throw(error: unknown) {
      if (source.throw) await source.throw(error);
      throw error;
    },
    [Symbol.asyncIterator]() {
      return this;
    },
  };
}

function isAsyncIterable(value: unknown): value is AsyncIterable<unknown> {
  return typeof (value as { [Symbol.asyncIterator]?: unknown } | null)?.[Symbol.asyncIterator] === "function";
}
