/** JSON Schemas of the device routes: they validate requests, shape responses and make the OpenAPI document. */
import { deviceStates } from "../../domain/index.js";
import { deviceAttributeRules as rules, maxRegistrationBatch } from "../../registry/index.js";

const text = { type: "string", pattern: rules.printableText.source } as const;

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
    firmwareVersion: text,
    groups: {
      type: "array",
      maxItems: rules.maxGroups,
      uniqueItems: true,
      items: { type: "string", pattern: rules.groupPattern.source },
    },
    labels: {
      type: "object",
      maxProperties: rules.maxLabels,
      propertyNames: { pattern: rules.labelKeyPattern.source },
      additionalProperties: text,
    },
  },
} as const;

export const batchBodySchema = {
  type: "object",
  additionalProperties: false,
  required: ["devices"],
  properties: {
    devices: { type: "array", minItems: 1, maxItems: maxRegistrationBatch, items: registrationBodySchema },
  },
} as const;

/** The filters a device list and a bulk job take. */
export const deviceFilterProperties = {
  state: { type: "string", enum: deviceStates },
  tenant: text,
  region: text,
  model: text,
  firmwareVersion: text,
  group: { type: "string", pattern: rules.groupPattern.source },
  label: { type: "string", maxLength: 200, description: "key=value" },
} as const;

export const listQuerySchema = {
  type: "object",
  additionalProperties: false,
  properties: {
    after: { type: "string", maxLength: 64, description: "`next` of the previous page" },
    limit: { type: "integer", minimum: 1, maximum: 500 },
    ...deviceFilterProperties,
    certificateExpiringBefore: {
      type: "string",
      maxLength: 40,
      description: "devices with a good certificate expiring before this time (RFC 3339)",
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
    firmwareVersion: { type: ["string", "null"] },
    groups: { type: "array", items: { type: "string" } },
    labels: { type: "object", additionalProperties: { type: "string" } },
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
