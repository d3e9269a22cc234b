/**
 * The admin API for devices: register, read, list, a device's history, and the operator's
 * lifecycle commands. The registry authorizes every call itself (role and scope); the route-level
 * check refuses a token without the permission before the body is read.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import type { DeviceState } from "../../domain/index.js";
import { callerOf } from "../../policy/index.js";
import {
  deviceJson,
  lifecycleEventJson,
  deviceAttributeRules,
  maxRegistrationBatch,
  operatorCommands,
  type Device,
  type DeviceRegistration,
  type OperatorCommand,
  type Registry,
} from "../../registry/index.js";
import type { Authorize } from "../auth.js";
import { etagOf, idempotencyKeyOf, ifMatchVersion } from "../conditional.js";
import { deviceIdSchema, problemResponses } from "../schemas.js";
import {
  batchBodySchema,
  commandBodySchema,
  listQuerySchema,
  deviceSchema,
  lifecycleEventSchema,
  registrationBodySchema,
  transitionSchema,
} from "./device-schemas.js";

const idParams = {
  type: "object",
  properties: { id: deviceIdSchema },
  required: ["id"],
} as const;
const pageQuery = (cursor: object) =>
  ({
    type: "object",
    properties: { after: cursor, limit: { type: "integer", minimum: 1, maximum: 500 } },
    additionalProperties: false,
  }) as const;

type ListQuery = {
  after?: string;
  limit?: number;
  state?: DeviceState;
  tenant?: string;
  region?: string;
  model?: string;
  firmwareVersion?: string;
  group?: string;
  label?: string;
  certificateExpiringBefore?: string;
};

const caller = (request: FastifyRequest) => callerOf(request.principal!);

function sendDevice(reply: FastifyReply, device: Device, status = 200) {
  return reply.code(status).header("etag", etagOf(device.version)).send(deviceJson(device));
}

export function deviceRoutes(http: FastifyInstance, registry: Registry, authorize: Authorize): void {
  http.post<{
    Body: {
      serialNumber: string;
      model?: string;
      manufacturer?: string;
      tenant?: string;
      region?: string;
      idevid?: string;
    };
  }>(
    "/api/v1/devices",
    {
      onRequest: authorize("device.register"),
      schema: {
        summary: "Register a device's hardware identity (state registered)",
        tags: ["devices"],
        body: registrationBodySchema,
        response: { 201: deviceSchema, ...problemResponses },
      },
    },
    async (request, reply) => sendDevice(reply, await registry.register(request.body, caller(request)), 201),
  );

  http.post<{ Body: { devices: DeviceRegistration[] } }>(
    "/api/v1/devices/batch",
    {
      onRequest: authorize("device.register"),
      bodyLimit: 32 * 1024 * 1024,
      schema: {
        summary: `Register up to ${maxRegistrationBatch} devices in one transaction: all of them, or none`,
        tags: ["devices"],
        body: batchBodySchema,
        response: {
          201: { type: "object", properties: { items: { type: "array", items: deviceSchema } } },
          ...problemResponses,
        },
      },
    },
    async (request, reply) => {
      const devices = await registry.registerMany(request.body.devices, caller(request));
      return reply.code(201).send({ items: devices.map(deviceJson) });
    },
  );

  http.get<{ Querystring: ListQuery }>(
    "/api/v1/devices",
    {
      onRequest: authorize("device.read"),
      schema: {
        summary: "List devices by id, filtered, inside the token's scope",
        tags: ["devices"],
        querystring: listQuerySchema,
        response: {
          200: {
            type: "object",
            properties: { items: { type: "array", items: deviceSchema }, next: { type: ["string", "null"] } },
          },
          ...problemResponses,
        },
      },
    },
    async (request) => {
      const { label, certificateExpiringBefore, ...query } = request.query;
      const limit = query.limit ?? 50;
      const items = await registry.list(
        {
          ...query,
          limit,
          label: label === undefined ? undefined : deviceAttributeRules.parseLabel(label),
          certificateExpiringBefore:
            certificateExpiringBefore === undefined ? undefined : new Date(certificateExpiringBefore),
        },
        caller(request),
      );
      return {
        items: items.map(deviceJson),
        next: items.length === limit ? items[items.length - 1]!.id : null,
      };
    },
  );

  http.get<{ Params: { id: string } }>(
    "/api/v1/devices/:id",
    {
      onRequest: authorize("device.read"),
      schema: {
        summary: "One device; its ETag is its version, for If-Match",
        tags: ["devices"],
        params: idParams,
        response: { 200: deviceSchema, ...problemResponses },
      },
    },
    async (request, reply) => sendDevice(reply, await registry.get(request.params.id, caller(request))),
  );

  http.get<{ Params: { id: string }; Querystring: { after?: string; limit?: number } }>(
    "/api/v1/devices/:id/history",
    {
      onRequest: authorize("device.read"),
      schema: {
        summary: "A device's lifecycle transitions, oldest first, with their evidence",
        tags: ["devices"],
        params: idParams,
        querystring: pageQuery({
          type: "string",
          pattern: "^[0-9]{1,18}$",
          description: "`next` of the previous page",
        }),
        response: {
          200: {
            type: "object",
            properties: {
              items: { type: "array", items: lifecycleEventSchema },
              next: { type: ["string", "null"] },
            },
          },
          ...problemResponses,
        },
      },
    },
    async (request) => {
      const page = await registry.history(request.params.id, caller(request), request.query);
      return { items: page.items.map(lifecycleEventJson), next: page.next ?? null };
    },
  );

  for (const name of operatorCommands) commandRoute(http, registry, authorize, name);
}

function commandRoute(
  http: FastifyInstance,
  registry: Registry,
  authorize: Authorize,
  name: OperatorCommand,
) {
  http.post<{ Params: { id: string }; Body: { reason?: string; compromised?: boolean } | undefined }>(
    `/api/v1/devices/:id/${name}`,
    {
      onRequest: authorize("device.lifecycle"),
      schema: {
        summary: `Lifecycle command: ${name}`,
        description:
          "Applied in one transaction with its history row, audit leaf and outbox event. If-Match (the device's ETag) refuses a stale decision with 412; Idempotency-Key makes a retry answer as the first call did.",
        tags: ["devices"],
        params: idParams,
        body: commandBodySchema(name === "finalize"),
        response: { 200: transitionSchema, ...problemResponses },
      },
    },
    async (request, reply) => {
      const body = request.body ?? {};
      const command = name === "finalize" ? { kind: name, compromised: body.compromised } : { kind: name };
      const result = await registry.apply(request.params.id, command, caller(request), {
        reason: body.reason,
        ifMatch: ifMatchVersion(request.headers["if-match"]),
        idempotencyKey: idempotencyKeyOf(request.headers["idempotency-key"]),
      });
      return reply.header("etag", etagOf(result.device.version)).send({
        device: deviceJson(result.device),
        event: lifecycleEventJson(result.event),
        replayed: result.replayed,
      });
    },
  );
}
