/** The admin API for certificates and CAs: issue from a CSR, read, list by key. */
import type { FastifyInstance } from "fastify";
import { certificateJson, type Authority, type CaSummary } from "../../ca/index.js";
import type { Registry } from "../../registry/index.js";
import { KeyfleetError } from "../../domain/index.js";
import { callerOf } from "../../policy/index.js";
import type { Authorize } from "../auth.js";
import { idempotencyKeyOf } from "../conditional.js";
import type { IssuanceMetrics } from "../issuance-metrics.js";
import { deviceInScope, scopeFilter } from "../scope.js";
import {
  caSchema,
  certificateSchema,
  deviceIdSchema,
  issueBodySchema,
  problemResponses,
} from "../schemas.js";

/** Routes get the services they use, never the app (DESIGN §2). */
export function certificateRoutes(
  http: FastifyInstance,
  services: { readonly authority: Authority; readonly registry: Registry },
  authorize: Authorize,
  metrics: IssuanceMetrics,
): void {
  const { authority, registry } = services;
  http.post<{
    Body: { csr: string; profile?: string; deviceId?: string; requestId?: string; validitySeconds?: number };
  }>(
    "/api/v1/certificates",
    {
      onRequest: authorize("cert.issue"),
      schema: {
        summary: "Issue a certificate from a PKCS#10 CSR",
        tags: ["certificates"],
        body: issueBodySchema,
        response: { 201: certificateSchema, ...problemResponses },
      },
    },
    async (request, reply) => {
      // Counted and timed from here: a request refused earlier (token, body schema) is no
      // issuance, and keyfleet_http_problems_total counts it.
      const certificate = await metrics.measure(
        request.body.profile,
        request.body.deviceId !== undefined,
        async () => {
          return registry.issue(
            {
              ...request.body,
              requestId: requestIdOf(request.body.requestId, request.headers["idempotency-key"]),
            },
            callerOf(request.principal!),
          );
        },
      );
      return reply.code(201).send(certificateJson(certificate));
    },
  );

  http.get<{ Querystring: { after?: string; limit?: number; deviceId?: string } }>(
    "/api/v1/certificates",
    {
      onRequest: authorize("cert.read"),
      schema: {
        summary: "List certificates, newest first, paginated by key",
        tags: ["certificates"],
        querystring: {
          type: "object",
          properties: {
            after: {
              type: "string",
              pattern: "^[0-9A-Fa-f:]{1,128}$",
              description: "`next` of the previous page: the serial of its last certificate",
            },
            limit: { type: "integer", minimum: 1, maximum: 500 },
            deviceId: deviceIdSchema,
          },
          additionalProperties: false,
        },
        response: {
          200: {
            type: "object",
            properties: {
              items: { type: "array", items: certificateSchema },
              next: { type: ["string", "null"] },
            },
          },
          ...problemResponses,
        },
      },
    },
    async (request) => {
      const page = await authority.certificates({ ...request.query, ...scopeFilter(request.principal!) });
      return { items: page.items.map(certificateJson), next: page.next ?? null };
    },
  );

  http.get<{ Params: { serial: string } }>(
    "/api/v1/certificates/:serial",
    {
      onRequest: authorize("cert.read"),
      schema: {
        summary: "One certificate by serial (hex)",
        tags: ["certificates"],
        params: { type: "object", properties: { serial: { type: "string" } }, required: ["serial"] },
        response: { 200: certificateSchema, ...problemResponses },
      },
    },
    async (request) => {
      const certificate = await authority.certificate(request.params.serial);
      if (!(await deviceInScope(registry, request.principal!, certificate.deviceId))) {
        throw new KeyfleetError("not-found", `no certificate with serial ${certificate.serial}`);
      }
      return certificateJson(certificate);
    },
  );

  http.get(
    "/api/v1/cas",
    {
      onRequest: authorize("ca.read"),
      schema: {
        summary: "The CA hierarchy",
        tags: ["cas"],
        response: { 200: { type: "array", items: caSchema }, ...problemResponses },
      },
    },
    async () => (await authority.cas()).map(caView),
  );

  http.get(
    "/api/v1/cas/chain",
    {
      onRequest: authorize("ca.read"),
      schema: { summary: "PEM chain of the issuing CA, issuing first, root last", tags: ["cas"] },
    },
    async (_request, reply) =>
      reply.type("application/pem-certificate-chain").send((await authority.chain()).pem),
  );
}

/** The idempotency key: the body's requestId or the Idempotency-Key header; both must agree. */
function requestIdOf(body: string | undefined, headers: string | string[] | undefined): string | undefined {
  const header = idempotencyKeyOf(headers);
  if (body !== undefined && header !== undefined && body !== header) {
    throw new KeyfleetError(
      "malformed-request",
      "the body's requestId and the Idempotency-Key header differ; send one, or the same in both",
    );
  }
  return body ?? header;
}

function caView(ca: CaSummary) {
  return { ...ca, notBefore: ca.notBefore.toISOString(), notAfter: ca.notAfter.toISOString() };
}
