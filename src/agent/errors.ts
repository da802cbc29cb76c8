/** An error the agent explains in one line (no stack trace): bad token, unreachable server, ... */
export class AgentError extends Error {
  constructor(
    message: string,
    /** Retrying will not help (refused token, unknown project): the agent stops even with --interval. */
    readonly fatal = false,
  ) {
    super(message);
    this.name = "AgentError";
  }
}

/** A one-line description of a network failure of fetch(). */
export function describeFetchError(err: unknown, url: string): string {
  const cause = (err as { cause?: { code?: string; message?: string } })?.cause;
  const code = cause?.code;
  if (code === "ECONNREFUSED") return `cannot reach the server at ${url}: connection refused`;
  if (code === "ENOTFOUND" || code === "EAI_AGAIN") return `cannot reach the server at ${url}: unknown host`;
  if (code === "ETIMEDOUT" || (err as Error)?.name === "TimeoutError") return `cannot reach the server at ${url}: timed out`;
  if (code === "ECONNRESET") return `cannot reach the server at ${url}: connection reset`;
  return `cannot reach the server at ${url}: ${cause?.message ?? (err as Error)?.message ?? String(err)}`;
}
