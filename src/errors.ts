import { GraphQLError, type GraphQLFormattedError } from "graphql";

/** The error codes of the spec's table, with the HTTP-like status each one carries. */
export const ERROR_STATUS = {
  BAD_USER_INPUT: 400,
  UNAUTHENTICATED: 401,
  FORBIDDEN: 403,
  NOT_FOUND: 404,
  CONFLICT: 409,
  EXECUTION_FAILED: 500,
  INTERNAL_SERVER_ERROR: 500,
} as const;

export type ErrorCode = keyof typeof ERROR_STATUS;

/** An error meant for the caller: its message is safe to show and its code is from the spec's table. */
export class AppError extends GraphQLError {
  readonly code: ErrorCode;
  readonly status: number;

  constructor(code: ErrorCode, message: string, details?: Record<string, unknown>) {
    super(message, { extensions: { code, status: ERROR_STATUS[code], ...details } });
    this.code = code;
    this.status = ERROR_STATUS[code];
  }
}

export const badInput = (message: string, details?: Record<string, unknown>) => new AppError("BAD_USER_INPUT", message, details);
export const unauthenticated = (message = "authentication required: send Authorization: Bearer <token>") => new AppError("UNAUTHENTICATED", message);
export const forbidden = (message: string) => new AppError("FORBIDDEN", message);
export const notFound = (message: string) => new AppError("NOT_FOUND", message);
export const conflict = (message: string, details?: Record<string, unknown>) => new AppError("CONFLICT", message, details);

/** Messages the spec quotes verbatim. */
export const Messages = {
  targetShaRequired: "targetSha is required",
  notPendingApproval: "rollback request is not pending approval",
  emptyFieldSelection: "selected fields cannot be empty for field mode",
  selfReview: "cannot approve/reject your own rollback request",
  alreadyReviewed: "you have already reviewed this rollback request",
  executionFailedAfterApproval: "approval saved but rollback execution failed",
} as const;

/** Codes graphql-js and Apollo raise themselves, mapped onto the spec's statuses. */
const FRAMEWORK_STATUS: Record<string, number> = {
  GRAPHQL_PARSE_FAILED: 400,
  GRAPHQL_VALIDATION_FAILED: 400,
  BAD_REQUEST: 400,
  PERSISTED_QUERY_NOT_FOUND: 400,
  PERSISTED_QUERY_NOT_SUPPORTED: 400,
  OPERATION_RESOLUTION_FAILURE: 400,
};

const TOKEN_LIMIT = /Document contains more th(?:an|at) (\d+) tokens/;

/**
 * Shapes every error a client sees: a code and status from the spec's table, never a stack
 * trace or an internal path. Errors that are not ours are logged and reported as internal.
 */
export function formatError(formatted: GraphQLFormattedError, original: unknown, log: (err: unknown) => void): GraphQLFormattedError {
  const cause = original instanceof GraphQLError ? (original.originalError ?? original) : original;
  if (cause instanceof AppError) {
    return { message: cause.message, locations: formatted.locations, path: formatted.path, extensions: { ...cause.extensions } };
  }
  const code = typeof formatted.extensions?.code === "string" ? formatted.extensions.code : undefined;
  if (code && code in FRAMEWORK_STATUS) {
    const limit = typeof formatted.extensions?.limit === "string" ? formatted.extensions.limit : undefined;
    const tokens = code === "GRAPHQL_PARSE_FAILED" ? TOKEN_LIMIT.exec(formatted.message) : null;
    if (tokens) {
      // graphql-js's own maxTokens refusal, worded like the other query limits.
      return { ...formatted, message: `Query token limit of ${tokens[1]} exceeded (QUERY_MAX_TOKENS)`, extensions: { code, status: 400, limit: "QUERY_MAX_TOKENS" } };
    }
    return { ...formatted, extensions: { code: code === "BAD_REQUEST" ? "BAD_USER_INPUT" : code, status: FRAMEWORK_STATUS[code], ...(limit ? { limit } : {}) } };
  }
  if (code === "BAD_USER_INPUT") {
    // graphql-js variable coercion errors: safe messages about the caller's own input.
    return { ...formatted, extensions: { code, status: 400 } };
  }
  if (original instanceof GraphQLError && !original.originalError && !code) {
    // A graphql-js execution error without a cause (e.g. a non-null violation): ours to fix, not the caller's.
    log(original);
    return { message: "internal server error", locations: formatted.locations, path: formatted.path, extensions: { code: "INTERNAL_SERVER_ERROR", status: 500 } };
  }
  log(cause);
  return { message: "internal server error", locations: formatted.locations, path: formatted.path, extensions: { code: "INTERNAL_SERVER_ERROR", status: 500 } };
}
