/** JSON Schemas shared by routes; they validate requests, shape responses and make the OpenAPI document. */
import { requestIdPattern } from "../ca/index.js";
import { operatorReasons } from "../domain/index.js";
import { isoTimePattern } from "../domain/iso-time.js";
import { profiles } from "../pki/index.js";
import { deviceIdPattern } from "../registry/index.js";

/** The profiles the admin API issues: every profile but the CAs'. */
export const endEntityProfileNames: readonly string[] = Object.values(profiles)
  .filter((p) => !p.ca)
  .map((p) => p.name);
export const problemSchema = {
  type: "object",
  description: "RFC 9457 problem details",
  properties: {
    type: {
      type: "string",
      description:
        "the problem type, /problems/{code}: a URI reference relative to the request's URL (RFC 9457 §3.1.1); this server serves a page there on what the code means and what to do",
    },
    title: { type: "string" },
    status: { type: "integer" },
    detail: { type: "string" },
    instance: { type: "string" },
    code: { type: "string", description: "the error code, the last segment of type" },
    problems: {
      type: "array",
      items: { type: "string" },
      description: "invalid-policy: every problem the document has",
    },
    policyVersion: { type: "integer", description: "policy-violation: the policy version in force" },
    rule: { type: "string", description: "policy-violation: the issuance rule that applied" },
  },
  required: ["type", "title", "status", "detail", "code"],
} as const;

export const problemResponses = {
  "4xx": { ...problemSchema, description: "The request was refused; nothing changed" },
  "5xx": { ...problemSchema, description: "The server could not answer" },
} as const;

export const deviceIdSchema = {
  type: "string",
  pattern: deviceIdPattern.source,
  description: "a device id, as `keyfleet device register` prints it",
} as const;

export const issueBodySchema = {
  type: "object",
  additionalProperties: false,
  required: ["csr"],
  properties: {
    csr: { type: "string", minLength: 1, maxLength: 65536, description: "PKCS#10 request, PEM" },
    profile: {
      type: "string",
      enum: endEntityProfileNames,
      description: "the certificate profile (default: device with a deviceId, client without)",
    },
    deviceId: deviceIdSchema,
    requestId: {
      type: "string",
      pattern: requestIdPattern.source,
      description:
        "idempotency key (also the Idempotency-Key header): 1–200 printable ASCII characters, within the token's scope; a retry must send the same CSR contents, profile, device and validity, anything else under the same key is 409",
    },
    validitySeconds: { type: "integer", minimum: 1 },
  },
} as const;

export const certificateSchema = {
  type: "object",
  properties: {
    serial: { type: "string", description: "hex, as openssl prints it" },
    issuerId: { type: "string" },
    subject: { type: "string" },
    sans: { type: "array", items: { type: "string" } },
    profile: { type: "string" },
    keyAlgorithm: { type: "string" },
    deviceId: { type: ["string", "null"] },
    requestId: { type: ["string", "null"] },
    policyVersion: {
      type: ["integer", "null"],
      description: "the policy version its issuance was decided under (0: the built-in policy)",
    },
    notBefore: { type: "string", format: "date-time" },
    notAfter: { type: "string", format: "date-time" },
    status: { type: "string", enum: ["good", "hold", "revoked"] },
    revocation: {
      type: ["object", "null"],
      description: "why and since when the certificate is not good (null while it is good)",
      properties: {
        reason: { type: "string", description: "RFC 5280 reason name" },
        revokedAt: { type: "string", format: "date-time" },
        invalidityDate: { type: ["string", "null"], format: "date-time" },
      },
    },
    fingerprintSha256: { type: "string" },
    pem: { type: "string" },
  },
} as const;

/** `POST /api/v1/certificates/{serial}/revocation`: revoke, or hold (certificateHold). */
export const revocationBodySchema = {
  type: "object",
  additionalProperties: false,
  required: ["reason"],
  properties: {
    reason: { type: "string", enum: [...operatorReasons] },
    invalidityDate: {
      type: "string",
      pattern: isoTimePattern,
      description:
        "when the key is known or suspected to have been compromised (RFC 5280 §5.3.2), ISO 8601 with its zone",
    },
    comment: { type: "string", maxLength: 500, description: "why, for the audit log and the event" },
  },
} as const;

export const caSchema = {
  type: "object",
  properties: {
    id: { type: "string" },
    kind: { type: "string", enum: ["root", "intermediate"] },
    parentId: { type: ["string", "null"] },
    subject: { type: "string" },
    serial: { type: "string" },
    algorithm: { type: "string" },
    notBefore: { type: "string", format: "date-time" },
    notAfter: { type: "string", format: "date-time" },
    state: { type: "string" },
    crlShards: { type: "integer" },
    urls: { type: "object", properties: { caIssuers: { type: "string" }, crl: { type: "string" } } },
  },
} as const;
