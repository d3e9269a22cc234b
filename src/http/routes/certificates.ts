/** The admin API for certificates and CAs: issue from a CSR, revoke, read, list by key. */
import type { FastifyInstance } from "fastify";
import { certificateJson, type Authority, type CaSummary, type OperatorReason } from "../../ca/index.js";
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
  revocationBodySchema,
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

  const serialParams = {
    type: "object",
    properties: { serial: { type: "string", pattern: "^[0-9A-Fa-f:]{1,128}$" } },
    required: ["serial"],
  } as const;
  const statusResponse = {
    200: {
      ...certificateSchema,
      properties: {
        ...certificateSchema.properties,
        changed: {
          type: "boolean",
          description: "false: it already had this status, and nothing was written",
        },
      },
    },
    ...problemResponses,
  } as const;

  http.post<{
    Params: { serial: string };
    Body: { reason: OperatorReason; invalidityDate?: string; comment?: string };
  }>(
    "/api/v1/certificates/:serial/revocation",
    {
      onRequest: authorize("cert.revoke"),
      schema: {
        summary: "Revoke a certificate (final), or hold one bound to no device (certificateHold)",
        description:
          "Writes the revocation record; the next delta CRL and OCSP answers carry it. Asking again for the same is no change (`changed: false`). A device's holds follow its lifecycle: suspend and resume the device instead.",
        tags: ["certificates"],
        params: serialParams,
        body: revocationBodySchema,
        response: statusResponse,
      },
    },
    async (request) => {
      const { reason, invalidityDate, comment } = request.body;
      const outcome = await registry.changeCertificateStatus(
        request.params.serial,
        { action: "revoke", reason },
        callerOf(request.principal!),
        { invalidityDate: invalidityDate === undefined ? undefined : new Date(invalidityDate), comment },
      );
      return { ...certificateJson(outcome.certificate), changed: outcome.changed };
    },
  );

  http.delete<{ Params: { serial: string } }>(
    "/api/v1/certificates/:serial/revocation",
    {
      onRequest: authorize("cert.revoke"),
      schema: {
        summary: "Lift the hold of a certificate bound to no device",
        description:
          "Only a hold is lifted; a revocation is final. A device's certificates: resume the device.",
        tags: ["certificates"],
        params: serialParams,
        response: statusResponse,
      },
    },
    async (request) => {
      const outcome = await registry.changeCertificateStatus(
        request.params.serial,
        { action: "release" },
        callerOf(request.principal!),
      );
      return { ...certificateJson(outcome.certificate), changed: outcome.changed };
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
