/** The admin API for certificates and CAs: issue from a CSR, read, list by key. */
import type { FastifyInstance } from "fastify";
import type { App } from "../../app.js";
import { certificateJson, type CaSummary } from "../../ca/index.js";
import type { Authorize } from "../auth.js";
import { caSchema, certificateSchema, issueBodySchema, problemResponses } from "../schemas.js";

export function certificateRoutes(http: FastifyInstance, app: App, authorize: Authorize): void {
  http.post<{
    Body: { csr: string; profile?: string; deviceId?: string; requestId?: string; validitySeconds?: number };
  }>(
    "/api/v1/certificates",
    {
      preHandler: authorize("cert.issue"),
      schema: {
        summary: "Issue a certificate from a PKCS#10 CSR",
        tags: ["certificates"],
        body: issueBodySchema,
        response: { 201: certificateSchema, ...problemResponses },
      },
    },
    async (request, reply) => {
      const idempotencyKey = request.headers["idempotency-key"];
      const certificate = await app.authority.issue({
        ...request.body,
        requestId:
          request.body.requestId ?? (typeof idempotencyKey === "string" ? idempotencyKey : undefined),
      });
      return reply.code(201).send(certificateJson(certificate));
    },
  );

  http.get<{ Querystring: { after?: string; limit?: number; deviceId?: string } }>(
    "/api/v1/certificates",
    {
      preHandler: authorize("cert.read"),
      schema: {
        summary: "List certificates, newest first, paginated by key",
        tags: ["certificates"],
        querystring: {
          type: "object",
          properties: {
            after: { type: "string", pattern: "^[0-9]+$" },
            limit: { type: "integer", minimum: 1, maximum: 500 },
            deviceId: { type: "string" },
          },
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
      const page = await app.authority.certificates(request.query);
      return { items: page.items.map(certificateJson), next: page.next ?? null };
    },
  );

  http.get<{ Params: { serial: string } }>(
    "/api/v1/certificates/:serial",
    {
      preHandler: authorize("cert.read"),
      schema: {
        summary: "One certificate by serial (hex)",
        tags: ["certificates"],
        params: { type: "object", properties: { serial: { type: "string" } }, required: ["serial"] },
        response: { 200: certificateSchema, ...problemResponses },
      },
    },
    async (request) => certificateJson(await app.authority.certificate(request.params.serial)),
  );

  http.get(
    "/api/v1/cas",
    {
      preHandler: authorize("ca.read"),
      schema: {
        summary: "The CA hierarchy",
        tags: ["cas"],
        response: { 200: { type: "array", items: caSchema }, ...problemResponses },
      },
    },
    async () => (await app.authority.cas()).map(caView),
  );

  http.get(
    "/api/v1/cas/chain",
    {
      preHandler: authorize("ca.read"),
      schema: { summary: "PEM chain of the issuing CA, issuing first, root last", tags: ["cas"] },
    },
    async (_request, reply) =>
      reply.type("application/pem-certificate-chain").send((await app.authority.chain()).pem),
  );
}

function caView(ca: CaSummary) {
  return { ...ca, notBefore: ca.notBefore.toISOString(), notAfter: ca.notAfter.toISOString() };
}
