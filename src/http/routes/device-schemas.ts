/** JSON Schemas of the device routes: they validate requests, shape responses and make the OpenAPI document. */
import { deviceStates } from "../../domain/index.js";

const text = { type: "string", pattern: "^(?! )[\\x20-\\x7e]{1,128}(?<! )$" } as const;

export const registrationBodySchema = {
  type: "object",
  additionalProperties: false,
  required: ["serialNumber"],
  properties: {
    serialNumber: { ...text, description: "the hardware serial number" },
    model: text,
    manufacturer: text,
    tenant: { ...text, description: "default: default" },
    region: text,
    idevid: {
      type: "string",
      minLength: 1,
      maxLength: 65536,
      description: "the manufacturer's IDevID certificate, PEM",
    },
  },
} as const;

export const deviceSchema = {
  type: "object",
  properties: {
    id: { type: "string" },
    serialNumber: { type: "string" },
    model: { type: ["string", "null"] },
    manufacturer: { type: ["string", "null"] },
    tenant: { type: "string" },
    region: { type: ["string", "null"] },
    state: { type: "string", enum: deviceStates },
    hasIdevid: { type: "boolean" },
    version: { type: "integer", description: "compare-and-set version; the ETag" },
    successor: {
      type: ["string", "null"],
      description: "while rotating: the successor certificate's serial",
    },
    graceUntil: {
      type: ["string", "null"],
      format: "date-time",
      description: "while decommissioning: cancel until then",
    },
    createdAt: { type: "string", format: "date-time" },
    updatedAt: { type: "string", format: "date-time" },
  },
} as const;

export const lifecycleEventSchema = {
  type: "object",
  properties: {
    id: { type: "string" },
    deviceId: { type: "string" },
    command: { type: "string" },
    from: { type: "string", enum: deviceStates },
    to: { type: "string", enum: deviceStates },
    version: { type: "integer" },
    actor: { type: "string" },
    reason: { type: ["string", "null"] },
    evidence: {
      type: "array",
      items: {
        type: "object",
        properties: { kind: { type: "string" }, ref: { type: "string" }, passed: { type: "boolean" } },
      },
    },
    credentials: {
      type: "array",
      description: "what the transition did to the device's certificates",
      items: {
        type: "object",
        properties: {
          serial: { type: "string" },
          status: { type: "string", enum: ["good", "hold", "revoked"] },
          reason: { type: ["string", "null"] },
        },
      },
    },
    policyVersion: { type: "integer" },
    at: { type: "string", format: "date-time" },
    auditIndex: { type: "integer", description: "the index of its audit leaf" },
  },
} as const;

export const transitionSchema = {
  type: "object",
  properties: {
    device: deviceSchema,
    event: lifecycleEventSchema,
    replayed: {
      type: "boolean",
      description: "true: a retry with the same Idempotency-Key; nothing was written",
    },
  },
} as const;

export function commandBodySchema(finalize: boolean) {
  return {
    type: "object",
    additionalProperties: false,
    properties: {
      reason: {
        type: "string",
        minLength: 1,
        maxLength: 500,
        description: "why, kept in the history and the audit log",
      },
      ...(finalize
        ? {
            compromised: {
              type: "boolean",
              description: "revoke with keyCompromise (default cessationOfOperation)",
            },
          }
        : {}),
    },
  } as const;
}
