/**
 * The native enrollment API (JSON, issue 16) and bootstrap tokens over the admin API.
 * - `POST /api/v1/devices/{id}/bootstrap-tokens` (cert.issue): a one-time token for one device.
 * - `GET /api/v1/enroll/nonce[?device=ID]`: a fresh nonce, for the device a credential
 *   authenticates (client certificate, bootstrap token) or, without one, for the device named:
 *   the challenge before evidence. A nonce alone grants nothing.
 * - `POST /api/v1/enroll`: CSR (+ evidence: a signature over nonce ‖ SHA-256(CSR) by the device's
 *   registered IDevID key, or by the key of a certificate it presents — its current one, to renew
 *   when its key is in a token TLS cannot use) → certificate and chain. Without evidence, the
 *   request authenticates as EST does (client certificate or bootstrap token).
 * - `POST /api/v1/enroll/status`: the device's signed status check (device-reports.ts): its state
 *   and what it is to do ("erase" while it is being retired, "rotate" once its credential is due),
 *   with when its credential is due (`renewAt`), even while its certificate is on hold.
 * - `POST /api/v1/enroll/erased`: the device's signed report that it erased its key, kept as the
 *   evidence of its finalize.
 * Refusals are problem+json and audit leaves.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import type { AuditLog } from "../../audit/index.js";
import type { Authority } from "../../ca/index.js";
import { KeyfleetError } from "../../domain/index.js";
import {
  maxBootstrapTtlSeconds,
  type BootstrapTokens,
  type Enrollment,
  type EvidencedCredential,
  type SignedReport,
} from "../../enrollment/index.js";
import { derOrPem } from "../../pki/index.js";
import { callerOf } from "../../policy/index.js";
import type { Authorize } from "../auth.js";
import {
  authenticatedDevice,
  enrollmentRefusalRecorder,
  presentedBy,
  presentsCredential,
} from "../enrollment-transport.js";
import { problemOf } from "../problem.js";
import { deviceIdSchema, problemResponses } from "../schemas.js";

export interface EnrollServices {
  readonly enrollment: Enrollment;
  readonly bootstrapTokens: BootstrapTokens;
  readonly authority: Authority;
  readonly audit: AuditLog;
}

const nonceSchema = {
  type: "object",
  properties: { nonce: { type: "string" }, expiresAt: { type: "string", format: "date-time" } },
} as const;

interface EnrollBody {
  csr: string;
  deviceId?: string;
  nonce?: string;
  evidence?: { type: "signature"; signature: string; certificates?: string[] };
  renew?: boolean;
  profile?: string;
}

export function enrollRoutes(http: FastifyInstance, services: EnrollServices, authorize: Authorize): void {
  http.post<{ Params: { id: string }; Body: { ttlSeconds?: number } }>(
    "/api/v1/devices/:id/bootstrap-tokens",
    {
      onRequest: authorize("cert.issue"),
      schema: {
        summary: "A one-time bootstrap token for a device without an IDevID (shown once)",
        tags: ["enrollment"],
        params: { type: "object", properties: { id: deviceIdSchema }, required: ["id"] },
        body: {
          type: ["object", "null"],
          additionalProperties: false,
          properties: { ttlSeconds: { type: "integer", minimum: 1, maximum: maxBootstrapTtlSeconds } },
        },
        response: {
          201: {
            type: "object",
            properties: {
              id: { type: "string" },
              deviceId: { type: "string" },
              token: { type: "string" },
              expiresAt: { type: "string", format: "date-time" },
            },
          },
          ...problemResponses,
        },
      },
    },
    async (request, reply) => {
      const t = await services.bootstrapTokens.create(callerOf(request.principal!), {
        deviceId: request.params.id,
        ttlSeconds: request.body?.ttlSeconds,
      });
      return reply.code(201).send({ ...t, expiresAt: t.expiresAt.toISOString() });
    },
  );

  void http.register(async (enroll) => {
    const recordRefusal = enrollmentRefusalRecorder(services.audit);
    enroll.addHook("onError", async (request, _reply, error) => {
      const problem = problemOf(error, request.url.split("?")[0]);
      if (problem.status < 500) await recordRefusal(request, problem.code, problem.detail);
    });

    reportRoutes(enroll, services);

    enroll.get<{ Querystring: { device?: string } }>(
      "/api/v1/enroll/nonce",
      {
        schema: {
          summary: "A single-use nonce (5 minutes) for the authenticated device, or the device named",
          tags: ["enrollment"],
          security: [],
          querystring: {
            type: "object",
            additionalProperties: false,
            properties: { device: deviceIdSchema },
          },
          response: { 200: nonceSchema, ...problemResponses },
        },
      },
      async (request, reply) => {
        const nonce = presentsCredential(presentedBy(request))
          ? await services.enrollment.nonce(await authenticatedDevice(services.enrollment, request))
          : await challenge(services, request, request.query.device);
        return reply
          .header("cache-control", "no-store")
          .send({ ...nonce, expiresAt: nonce.expiresAt.toISOString() });
      },
    );

    enroll.post<{ Body: EnrollBody }>(
      "/api/v1/enroll",
      {
        schema: {
          summary:
            "Enroll: a CSR made on the device, with its evidence or credential → its certificate and chain",
          tags: ["enrollment"],
          security: [],
          body: {
            type: "object",
            additionalProperties: false,
            required: ["csr"],
            properties: {
              csr: {
                type: "string",
                minLength: 1,
                maxLength: 65_536,
                description: "PKCS#10, PEM or base64 DER",
              },
              deviceId: deviceIdSchema,
              nonce: { type: "string", minLength: 1, maxLength: 64 },
              evidence: {
                type: "object",
                additionalProperties: false,
                required: ["type", "signature"],
                properties: {
                  type: { const: "signature" },
                  signature: { type: "string", minLength: 1, maxLength: 2048, description: "base64" },
                  certificates: {
                    type: "array",
                    minItems: 1,
                    maxItems: 4,
                    items: { type: "string", minLength: 1, maxLength: 16_384 },
                    description:
                      "base64 DER, leaf first: the certificate whose key signed (the device's current certificate, or its IDevID); absent: its registered IDevID's key",
                  },
                },
              },
              renew: {
                type: "boolean",
                description: "renew the certificate presented as TLS client certificate",
              },
              profile: { type: "string", minLength: 1, maxLength: 64 },
            },
          },
          response: {
            200: {
              type: "object",
              properties: {
                serial: { type: "string" },
                deviceId: { type: "string" },
                notAfter: { type: "string", format: "date-time" },
                certificate: { type: "string", description: "PEM" },
                chain: { type: "array", items: { type: "string" }, description: "PEM, issuing CA first" },
              },
            },
            ...problemResponses,
          },
        },
      },
      async (request, reply) => {
        const body = request.body;
        const csr = csrDer(body.csr);
        const { credential, nonce } = body.evidence
          ? await byEvidence(services, request, body, csr)
          : { credential: await authenticatedDevice(services.enrollment, request), nonce: undefined };
        const issued = await services.enrollment.enroll({
          credential,
          csr,
          nonce,
          // A device proving its current certificate renews it (there is no other reason to).
          renew: body.renew ?? credential.kind === "certificate",
          profile: body.profile,
        });
        const chain = await services.authority.chain();
        return sendIssued(reply, issued, chain.pem);
      },
    );
  });
}

async function challenge(services: EnrollServices, request: FastifyRequest, device: string | undefined) {
  if (device === undefined) {
    throw new KeyfleetError(
      "unauthorized",
      "a nonce is for one device: present its credential (client certificate, bootstrap token), or name it (?device=ID) to sign evidence over the nonce",
    );
  }
  request.enrollingDevice = device;
  return services.enrollment.challenge(device);
}

async function byEvidence(
  services: EnrollServices,
  request: FastifyRequest,
  body: EnrollBody,
  csr: Uint8Array,
): Promise<EvidencedCredential> {
  if (body.deviceId === undefined || body.nonce === undefined) {
    throw new KeyfleetError("malformed-request", "evidence comes with the deviceId and the nonce it covers");
  }
  request.enrollingDevice = body.deviceId;
  const evidenced = await services.enrollment.authenticateByEvidence({
    deviceId: body.deviceId,
    nonce: body.nonce,
    csr,
    evidence: body.evidence!,
  });
  await services.enrollment.confirmUse(evidenced.credential); // a signed use of a new certificate confirms it
  return evidenced;
}

interface ReportBody {
  deviceId: string;
  nonce: string;
  certificate: string;
  signature: string;
}

const reportBody = {
  type: "object",
  additionalProperties: false,
  required: ["deviceId", "nonce", "certificate", "signature"],
  properties: {
    deviceId: deviceIdSchema,
    nonce: { type: "string", minLength: 1, maxLength: 64 },
    certificate: {
      type: "string",
      minLength: 1,
      maxLength: 16_384,
      description: "base64 DER: the device's Keyfleet certificate (good or on hold) whose key signed",
    },
    signature: {
      type: "string",
      minLength: 1,
      maxLength: 2048,
      description: 'base64, over the nonce\'s UTF-8 octets then the purpose\'s ("status" or "erased")',
    },
  },
} as const;

function signedReport(request: FastifyRequest<{ Body: ReportBody }>): SignedReport {
  const body = request.body;
  request.enrollingDevice = body.deviceId;
  return {
    deviceId: body.deviceId,
    nonce: body.nonce,
    certificate: new Uint8Array(Buffer.from(body.certificate, "base64")),
    signature: new Uint8Array(Buffer.from(body.signature, "base64")),
  };
}

/** The device's status check and erase report (issue 17 item 5), in the enrollment scope (its refusals audited). */
function reportRoutes(enroll: FastifyInstance, services: EnrollServices): void {
  enroll.post<{ Body: ReportBody; Querystring: { actions?: string } }>(
    "/api/v1/enroll/status",
    {
      schema: {
        summary:
          "A device's signed status check: its state, what it is to do (erase when retired, rotate when due) and when its credential is due",
        tags: ["enrollment"],
        security: [],
        body: reportBody,
        querystring: {
          type: "object",
          properties: {
            actions: {
              type: "string",
              pattern: "^[a-z-]{1,32}(,[a-z-]{1,32}){0,15}$",
              description:
                "the actions beyond none, erase and wait the agent knows, comma-separated (`rotate`); an agent that names none is never told to rotate",
            },
          },
        },
        response: {
          200: {
            type: "object",
            properties: {
              deviceId: { type: "string" },
              state: { type: "string" },
              action: { type: "string", enum: ["none", "erase", "wait", "rotate"] },
              erased: { type: "boolean" },
              renewAt: {
                type: "string",
                format: "date-time",
                description:
                  "when the credential the device reported with is due for renewal (the policy's cadence, or an operator's rotation request); absent where its state renews nothing",
              },
            },
          },
          ...problemResponses,
        },
      },
    },
    async (request, reply) => {
      const knows = { rotate: (request.query.actions ?? "").split(",").includes("rotate") };
      const { renewAt, ...status } = await services.enrollment.reports.status(signedReport(request), knows);
      return reply
        .header("cache-control", "no-store")
        .send(renewAt === undefined ? status : { ...status, renewAt: renewAt.toISOString() });
    },
  );

  enroll.post<{ Body: ReportBody }>(
    "/api/v1/enroll/erased",
    {
      schema: {
        summary: "A decommissioning device's signed report that it erased its key",
        tags: ["enrollment"],
        security: [],
        body: reportBody,
        response: {
          201: {
            type: "object",
            properties: {
              report: { type: "string" },
              reportedAt: { type: "string", format: "date-time" },
              auditIndex: { type: "integer" },
            },
          },
          ...problemResponses,
        },
      },
    },
    async (request, reply) => {
      const r = await services.enrollment.reports.erased(signedReport(request));
      return reply
        .code(201)
        .send({ report: r.id, reportedAt: r.reportedAt.toISOString(), auditIndex: r.auditIndex });
    },
  );
}

function csrDer(text: string): Uint8Array {
  return text.includes("-----BEGIN")
    ? derOrPem(text, "CERTIFICATE REQUEST")
    : new Uint8Array(Buffer.from(text, "base64"));
}

function sendIssued(
  reply: FastifyReply,
  issued: { serial: string; deviceId: string | null; notAfter: Date; pem: string },
  chainPem: string,
) {
  const chain = chainPem.match(/-----BEGIN CERTIFICATE-----[^-]+-----END CERTIFICATE-----\n?/g) ?? [];
  return reply.send({
    serial: issued.serial,
    deviceId: issued.deviceId,
    notAfter: issued.notAfter.toISOString(),
    certificate: issued.pem,
    chain,
  });
}
