/**
 * The admin API for API tokens (admin role, unscoped): list without secrets, create (the secret is
 * in the answer, once), revoke, rotate. A scoped token may not manage tokens at all: it could mint
 * one wider than itself.
 */
import type { FastifyInstance, FastifyRequest } from "fastify";
import {
  actorOf,
  checkMayManageTokens,
  maxTokenLifetimeSeconds,
  roles,
  tokenIdPattern,
  type Scopes,
  type TokenService,
} from "../../policy/index.js";
import type { Authorize } from "../auth.js";
import { problemResponses } from "../schemas.js";

const tokenSchema = {
  type: "object",
  properties: {
    id: { type: "string" },
    role: { type: "string", enum: roles },
    scopes: { type: "object", additionalProperties: { type: "array", items: { type: "string" } } },
    description: { type: ["string", "null"] },
    state: { type: "string", enum: ["active", "expired", "revoked"] },
    createdAt: { type: "string", format: "date-time" },
    expiresAt: { type: ["string", "null"], format: "date-time" },
    lastUsedAt: { type: ["string", "null"], format: "date-time" },
    revokedAt: { type: ["string", "null"], format: "date-time" },
    replacedBy: { type: ["string", "null"] },
  },
} as const;

const createdSchema = {
  ...tokenSchema,
  properties: {
    ...tokenSchema.properties,
    token: { type: "string", description: "the secret, shown this once" },
  },
} as const;

const scopeValues = {
  type: "array",
  minItems: 1,
  items: { type: "string", pattern: "^[\\x21-\\x7e]{1,128}$" },
};
const ttlSeconds = {
  type: ["integer", "null"],
  minimum: 1,
  maximum: maxTokenLifetimeSeconds,
  description: "lifetime in seconds; null: never expires (said on purpose); absent: 90 days",
} as const;
const idParams = {
  type: "object",
  properties: { id: { type: "string", pattern: tokenIdPattern.source } },
  required: ["id"],
} as const;

export function tokenRoutes(http: FastifyInstance, tokens: TokenService, authorize: Authorize): void {
  const guard = {
    onRequest: authorize("token.manage"),
    preHandler: async (r: FastifyRequest) => checkMayManageTokens(r.principal!),
  };

  http.get<{ Querystring: { after?: string; limit?: number } }>(
    "/api/v1/tokens",
    {
      ...guard,
      schema: {
        summary: "List API tokens, newest first (never their secrets)",
        tags: ["tokens"],
        querystring: {
          type: "object",
          properties: {
            after: { type: "string", pattern: "^[0-9]{1,18}$", description: "`next` of the previous page" },
            limit: { type: "integer", minimum: 1, maximum: 500 },
          },
          additionalProperties: false,
        },
        response: {
          200: {
            type: "object",
            properties: { items: { type: "array", items: tokenSchema }, next: { type: ["string", "null"] } },
          },
          ...problemResponses,
        },
      },
    },
    async (request) => tokens.list(request.query),
  );

  http.post<{ Body: { role: string; scopes?: Scopes; description?: string; ttlSeconds?: number | null } }>(
    "/api/v1/tokens",
    {
      ...guard,
      schema: {
        summary: "Create an API token; the answer holds its secret, shown this once",
        tags: ["tokens"],
        body: {
          type: "object",
          additionalProperties: false,
          required: ["role"],
          properties: {
            role: { type: "string", enum: roles },
            scopes: {
              type: "object",
              additionalProperties: false,
              properties: { tenant: scopeValues, region: scopeValues },
            },
            description: { type: "string", minLength: 1, maxLength: 200 },
            ttlSeconds,
          },
        },
        response: { 201: createdSchema, ...problemResponses },
      },
    },
    async (request, reply) =>
      reply.code(201).send(await tokens.create({ ...request.body, actor: actorOf(request.principal!) })),
  );

  http.post<{ Params: { id: string } }>(
    "/api/v1/tokens/:id/revoke",
    {
      ...guard,
      schema: {
        summary: "Revoke a token: it is refused from the next request on",
        tags: ["tokens"],
        params: idParams,
        response: { 200: tokenSchema, ...problemResponses },
      },
    },
    async (request) => tokens.revoke(request.params.id, actorOf(request.principal!)),
  );

  http.post<{ Params: { id: string }; Body: { ttlSeconds?: number | null } | undefined }>(
    "/api/v1/tokens/:id/rotate",
    {
      ...guard,
      // The body is optional (its one field is); validate an absent one as `{}`.
      preValidation: async (request) => {
        request.body ??= {};
      },
      schema: {
        summary: "A new secret for the token's role and scopes; the old token is revoked at once",
        tags: ["tokens"],
        params: idParams,
        body: { type: "object", additionalProperties: false, properties: { ttlSeconds } },
        response: { 201: createdSchema, ...problemResponses },
      },
    },
    async (request, reply) =>
      reply.code(201).send(
        await tokens.rotate(request.params.id, {
          ttlSeconds: request.body?.ttlSeconds,
          actor: actorOf(request.principal!),
        }),
      ),
  );
}
