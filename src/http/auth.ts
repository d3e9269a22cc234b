/**
 * Bearer authentication (an API token, or an OIDC JWT when configured) and role checks for the
 * admin API. They run on request, before the body is read or validated: a caller without the right
 * credential learns nothing about the route. A refusal (no credential, an unknown, expired or
 * revoked one, a JWT that does not verify or whose key set cannot be fetched, a role that may not)
 * is an audit leaf, as often as refusal-limiter.ts allows.
 */
import type { FastifyReply, FastifyRequest, onRequestAsyncHookHandler } from "fastify";
import type { AuditLog } from "../audit/index.js";
import { KeyfleetError, isKeyfleetError } from "../domain/index.js";
import {
  actorOf,
  allows,
  type BearerAuthenticator,
  type Permission,
  type Principal,
} from "../policy/index.js";
import { refusalLimiter, type RefusalLimiter } from "./refusal-limiter.js";

declare module "fastify" {
  interface FastifyRequest {
    principal?: Principal;
  }
}

/**
 * Records a refused privileged request as an audit leaf, as often as the limiter allows; the
 * request is refused whether or not the record could be written. Refusals of one kind (who, which
 * route, which code) are one leaf a minute: an anonymous flood from any number of addresses is
 * one leaf a minute per route and code.
 */
export function refusalRecorder(audit: AuditLog, limiter: RefusalLimiter = refusalLimiter()) {
  return async (request: FastifyRequest, error: KeyfleetError, principal?: Principal): Promise<void> => {
    const route = `${request.method} ${request.routeOptions.url ?? request.url.split("?")[0]}`;
    const actor = principal ? actorOf(principal) : "anonymous";
    const { record, unrecordedBefore } = limiter.admit(`${actor} ${route} ${error.code}`);
    if (!record) return;
    await audit
      .record([
        {
          type: "request.refused",
          actor,
          subject: `request:${route}`,
          details: {
            route,
            code: error.code,
            reason: error.message,
            remoteAddress: request.ip,
            unrecordedBefore,
          },
        },
      ])
      .catch((cause: unknown) => request.log.error({ err: cause }, "a refused request could not be audited"));
  };
}

export type RefusalRecorder = ReturnType<typeof refusalRecorder>;

export function authorizer(bearer: BearerAuthenticator, recordRefusal: RefusalRecorder) {
  return (permission: Permission): onRequestAsyncHookHandler =>
    async function authorize(request: FastifyRequest, _reply: FastifyReply) {
      let principal: Principal | undefined;
      try {
        const header = request.headers.authorization;
        const m = header ? /^Bearer\s+(\S+)$/i.exec(header) : null;
        if (!m) {
          throw new KeyfleetError(
            "unauthorized",
            "send an API token or an OIDC JWT: Authorization: Bearer <token>",
          );
        }
        principal = await bearer.authenticate(m[1]!);
        if (!allows(principal.role, permission)) {
          throw new KeyfleetError("forbidden", `role "${principal.role}" may not ${permission}`);
        }
      } catch (e) {
        // `unavailable`: the identity provider's key set could not be fetched; refused all the same.
        if (
          isKeyfleetError(e, "unauthorized") ||
          isKeyfleetError(e, "forbidden") ||
          isKeyfleetError(e, "unavailable")
        ) {
          await recordRefusal(request, e, principal);
        }
        throw e;
      }
      request.principal = principal;
    };
}

export type Authorize = ReturnType<typeof authorizer>;
