/**
 * The versioned policy: the version in force, the versions, one version's document, a diff, and
 * applying a new version (policy-admin). A document that fails any check is `invalid-policy` with
 * every problem listed, and nothing changes.
 */
import type { FastifyInstance, FastifyRequest } from "fastify";
import { callerOf, maxPolicyBytes, type PolicyService } from "../../policy/index.js";
import type { Authorize } from "../auth.js";
import { problemResponses } from "../schemas.js";

const versionSchema = {
  type: "object",
  properties: {
    version: { type: "integer", description: "0: the built-in policy (no document)" },
    sha256: {
      type: ["string", "null"],
      description: "of the document's UTF-8 bytes, as its audit leaf names it",
    },
    comment: { type: ["string", "null"] },
    createdBy: { type: "string" },
    createdAt: { type: ["string", "null"], format: "date-time" },
    document: { type: ["string", "null"], description: "the document as applied (YAML or JSON)" },
  },
} as const;

const version = { type: "integer", minimum: 1, maximum: 2 ** 31 - 1 } as const;
const caller = (request: FastifyRequest) => callerOf(request.principal!);

export function policyRoutes(http: FastifyInstance, policies: PolicyService, authorize: Authorize): void {
  http.get(
    "/api/v1/policy",
    {
      onRequest: authorize("policy.read"),
      schema: {
        summary: "The policy version in force, with its document",
        tags: ["policy"],
        response: { 200: versionSchema, ...problemResponses },
      },
    },
    async (request) => policies.show(caller(request)),
  );

  http.post<{ Body: { document: string; comment?: string; dryRun?: boolean } }>(
    "/api/v1/policy",
    {
      onRequest: authorize("policy.write"),
      schema: {
        summary: "Apply a policy document as the next version (or check it: dryRun)",
        tags: ["policy"],
        body: {
          type: "object",
          additionalProperties: false,
          required: ["document"],
          properties: {
            document: { type: "string", minLength: 1, maxLength: maxPolicyBytes },
            comment: { type: "string", minLength: 1, maxLength: 500 },
            dryRun: { type: "boolean" },
          },
        },
        response: {
          200: {
            description:
              "a dry run ({valid: true}), or the latest version already holding this document (unchanged)",
            type: "object",
            properties: {
              valid: { type: "boolean" },
              unchanged: { type: "boolean" },
              ...versionSchema.properties,
            },
          },
          201: {
            type: "object",
            properties: { unchanged: { type: "boolean" }, ...versionSchema.properties },
          },
          ...problemResponses,
        },
      },
    },
    async (request, reply) => {
      if (request.body.dryRun) {
        policies.check(caller(request), request.body.document);
        return { valid: true };
      }
      const applied = await policies.apply(caller(request), request.body.document, request.body.comment);
      // The latest version already holds this document: that version again, and nothing written.
      if (applied.unchanged) return applied;
      return reply.code(201).header("location", `/api/v1/policy/versions/${applied.version}`).send(applied);
    },
  );

  http.get<{ Querystring: { before?: number; limit?: number } }>(
    "/api/v1/policy/versions",
    {
      onRequest: authorize("policy.read"),
      schema: {
        summary: "Policy versions, newest first",
        tags: ["policy"],
        querystring: {
          type: "object",
          additionalProperties: false,
          properties: { before: version, limit: { type: "integer", minimum: 1, maximum: 500 } },
        },
        response: {
          200: {
            type: "object",
            properties: {
              items: { type: "array", items: versionSchema },
              next: { type: ["integer", "null"], description: "pass as `before` for the next page" },
            },
          },
          ...problemResponses,
        },
      },
    },
    async (request) => {
      const page = await policies.history(caller(request), request.query);
      return { items: page.items, next: page.next ?? null };
    },
  );

  http.get<{ Params: { version: number } }>(
    "/api/v1/policy/versions/:version",
    {
      onRequest: authorize("policy.read"),
      schema: {
        summary: "One policy version, with its document",
        tags: ["policy"],
        params: { type: "object", required: ["version"], properties: { version } },
        response: { 200: versionSchema, ...problemResponses },
      },
    },
    async (request) => policies.show(caller(request), request.params.version),
  );

  http.get<{ Querystring: { from: number; to: number } }>(
    "/api/v1/policy/diff",
    {
      onRequest: authorize("policy.read"),
      schema: {
        summary: "What changed from one policy version to another, as a unified diff",
        tags: ["policy"],
        querystring: {
          type: "object",
          additionalProperties: false,
          required: ["from", "to"],
          properties: { from: version, to: version },
        },
        response: { 200: { type: "object", properties: { diff: { type: "string" } } }, ...problemResponses },
      },
    },
    async (request) => ({ diff: await policies.diff(caller(request), request.query.from, request.query.to) }),
  );
}
