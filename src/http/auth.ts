/**
 * Bearer-token authentication and role checks for the admin API. They run on request, before the
 * body is read or validated: a caller without the right token learns nothing about the route.
 */
import type { FastifyReply, FastifyRequest, onRequestAsyncHookHandler } from "fastify";
import { KeyfleetError } from "../domain/index.js";
import { allows, type Permission, type Principal, type TokenService } from "../policy/index.js";

declare module "fastify" {
  interface FastifyRequest {
    principal?: Principal;
  }
}

export function authorizer(tokens: TokenService) {
  return (permission: Permission): onRequestAsyncHookHandler =>
    async function authorize(request: FastifyRequest, _reply: FastifyReply) {
      const header = request.headers.authorization;
      const m = header ? /^Bearer\s+(\S+)$/i.exec(header) : null;
      if (!m) throw new KeyfleetError("unauthorized", "send an API token: Authorization: Bearer <token>");
      const principal = await tokens.authenticate(m[1]!);
      if (!allows(principal.role, permission)) {
        throw new KeyfleetError("forbidden", `role "${principal.role}" may not ${permission}`);
      }
      request.principal = principal;
    };
}

export type Authorize = ReturnType<typeof authorizer>;
