/**
 * Manufacturers and their CA certificates: read with `manufacturer.read`, added (never changed)
 * with `manufacturer.manage` by an unscoped caller. Certificates are PEM, or base64 DER.
 */
import type { FastifyInstance, FastifyRequest } from "fastify";
import { callerOf } from "../../policy/index.js";
import type { Manufacturer, ManufacturerService } from "../../registry/index.js";
import type { Authorize } from "../auth.js";
import { problemResponses } from "../schemas.js";

const certificateInput = {
  type: "string",
  minLength: 1,
  maxLength: 65_536,
  description: "a CA certificate, PEM or base64 DER",
} as const;

const manufacturerSchema = {
  type: "object",
  properties: {
    id: { type: "string" },
    name: { type: "string" },
    description: { type: ["string", "null"] },
    createdAt: { type: "string", format: "date-time" },
    certificates: {
      type: "array",
      items: {
        type: "object",
        properties: {
          sha256: { type: "string" },
          subject: { type: "string" },
          notAfter: { type: "string", format: "date-time" },
          addedBy: { type: "string" },
          addedAt: { type: "string", format: "date-time" },
        },
      },
    },
  },
} as const;

const nameSchema = { type: "string", minLength: 1, maxLength: 128 } as const;
const caller = (request: FastifyRequest) => callerOf(request.principal!);
/** PEM as it is; anything else is base64 DER. */
const certificateOf = (text: string): Uint8Array | string =>
  text.includes("-----BEGIN") ? text : Buffer.from(text, "base64");
const json = (m: Manufacturer) => ({
  ...m,
  createdAt: m.createdAt.toISOString(),
  certificates: m.certificates.map((c) => ({
    ...c,
    notAfter: c.notAfter.toISOString(),
    addedAt: c.addedAt.toISOString(),
  })),
});

export function manufacturerRoutes(
  http: FastifyInstance,
  manufacturers: ManufacturerService,
  authorize: Authorize,
): void {
  http.post<{ Body: { name: string; description?: string; certificates: string[] } }>(
    "/api/v1/manufacturers",
    {
      onRequest: authorize("manufacturer.manage"),
      schema: {
        summary: "Register a manufacturer with the CA certificates its devices' IDevIDs must validate to",
        tags: ["manufacturers"],
        body: {
          type: "object",
          additionalProperties: false,
          required: ["name", "certificates"],
          properties: {
            name: nameSchema,
            description: { type: "string", minLength: 1, maxLength: 128 },
            certificates: { type: "array", minItems: 1, maxItems: 16, items: certificateInput },
          },
        },
        response: { 201: manufacturerSchema, ...problemResponses },
      },
    },
    async (request, reply) =>
      reply.code(201).send(
        json(
          await manufacturers.add(caller(request), {
            ...request.body,
            certificates: request.body.certificates.map(certificateOf),
          }),
        ),
      ),
  );

  http.get<{ Querystring: { after?: string; limit?: number } }>(
    "/api/v1/manufacturers",
    {
      onRequest: authorize("manufacturer.read"),
      schema: {
        summary: "Manufacturers, by name",
        tags: ["manufacturers"],
        querystring: {
          type: "object",
          additionalProperties: false,
          properties: { after: nameSchema, limit: { type: "integer", minimum: 1, maximum: 500 } },
        },
        response: {
          200: { type: "object", properties: { items: { type: "array", items: manufacturerSchema } } },
          ...problemResponses,
        },
      },
    },
    async (request) => ({
      items: (
        await manufacturers.list(caller(request), {
          after: request.query.after,
          limit: request.query.limit ?? 50,
        })
      ).map(json),
    }),
  );

  http.get<{ Params: { id: string } }>(
    "/api/v1/manufacturers/:id",
    {
      onRequest: authorize("manufacturer.read"),
      schema: {
        summary: "One manufacturer (by id or name) and its CA certificates",
        tags: ["manufacturers"],
        params: { type: "object", required: ["id"], properties: { id: nameSchema } },
        response: { 200: manufacturerSchema, ...problemResponses },
      },
    },
    async (request) => json(await manufacturers.get(caller(request), request.params.id)),
  );

  http.post<{ Params: { id: string }; Body: { certificate: string } }>(
    "/api/v1/manufacturers/:id/certificates",
    {
      onRequest: authorize("manufacturer.manage"),
      schema: {
        summary: "Add a CA certificate (a new root or intermediate) to a manufacturer",
        tags: ["manufacturers"],
        params: { type: "object", required: ["id"], properties: { id: nameSchema } },
        body: {
          type: "object",
          additionalProperties: false,
          required: ["certificate"],
          properties: { certificate: certificateInput },
        },
        response: { 200: manufacturerSchema, ...problemResponses },
      },
    },
    async (request) =>
      json(
        await manufacturers.addCertificate(
          caller(request),
          request.params.id,
          certificateOf(request.body.certificate),
        ),
      ),
  );
}
