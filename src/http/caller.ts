import type { RequestContext } from "../../resolvers/context.js";
import type { App } from "../app.js";
import { AuthService } from "../services/auth.js";

/** The caller behind an Authorization header: an actor, or why there is none. */
export async function callerContext(app: App, authorization: string | undefined): Promise<RequestContext> {
  const token = AuthService.parseAuthorization(authorization);
  if (authorization && !token) return { actor: null, authError: 'malformed Authorization header: use "Bearer <token>"', services: app };
  if (!token) return { actor: null, authError: null, services: app };
  const actor = await app.auth.authenticate(token);
  return { actor, authError: actor ? null : "invalid, expired or revoked token", services: app };
}
