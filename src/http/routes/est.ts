/**
 * EST (RFC 7030, with the RFC 8951 clarifications) on the HTTPS listener:
 * /.well-known/est[/<label>]/cacerts, csrattrs, simpleenroll, simplereenroll.
 * - Bodies are base64 of DER, with or without line breaks; Content-Transfer-Encoding is ignored
 *   (RFC 8951 §3.1). Answers are base64 on one line with a Content-Length; the header
 *   Content-Transfer-Encoding: base64 is sent as well, for clients written to RFC 7030 alone.
 * - Errors are a one-line text/plain message with the status of their code (RFC 7030 §4.2.3:
 *   without a content type a client shows the body as text); 401 names Basic, the scheme a
 *   bootstrap token rides in (RFC 7030 §3.2.3).
 * - A label is a certificate profile for the device (`device`, `tls-server`) or the device's
 *   tenant, checked once the device is known.
 * - serverkeygen is refused: keys are made on the device (DESIGN §1).
 * - Every refusal of a device's request is an audit leaf, at the rate refusal-limiter.ts allows.
 */
import type { FastifyInstance, FastifyReply } from "fastify";
import type { AuditLog } from "../../audit/index.js";
import type { Authority } from "../../ca/index.js";
import { KeyfleetError, quoted } from "../../domain/index.js";
import type { DeviceCredential, Enrollment } from "../../enrollment/index.js";
import { certsOnly, csrAttrs } from "../../pki/index.js";
import { profileCatalog } from "../../registry/index.js";
import {
  authenticatedDevice,
  enrollmentRefusalRecorder,
  presentedBy,
  presentsCredential,
} from "../enrollment-transport.js";
import { problemOf } from "../problem.js";
import { noteRefusal } from "../request-log.js";

export interface EstServices {
  readonly enrollment: Enrollment;
  readonly authority: Authority;
  readonly audit: AuditLog;
}

/** A CSR is a few hundred bytes; an RSA-4096 one with many SANs stays far below this. */
const maxBodyBytes = 64 * 1024;
const prefix = "/.well-known/est";
const pkcs7 = "application/pkcs7-mime";

export function estRoutes(http: FastifyInstance, services: EstServices): void {
  void http.register(async (est) => {
    est.addContentTypeParser(
      "application/pkcs10",
      { parseAs: "string", bodyLimit: maxBodyBytes },
      (_request, body, done) => done(null, body),
    );
    const recordRefusal = enrollmentRefusalRecorder(services.audit);
    est.setErrorHandler(async (error, request, reply) => {
      const problem = problemOf(error, request.url.split("?")[0]);
      if (problem.status < 500) {
        await recordRefusal(request, problem.code, problem.detail);
        noteRefusal(request, problem.code, problem.detail);
      } else request.log.error({ err: error }, "EST request failed");
      if (problem.status === 401) reply.header("www-authenticate", 'Basic realm="keyfleet-est"');
      return reply
        .code(problem.status)
        .type("text/plain; charset=utf-8")
        .send(`keyfleet: ${problem.detail} (${problem.code})\n`);
    });
    // RFC 7030 §4.2.1: an enrollment body is application/pkcs10; anything else is refused before it is read.
    est.addHook("onRequest", async (request) => {
      if (request.method !== "POST" || request.url.endsWith("/serverkeygen")) return;
      const type = (request.headers["content-type"] ?? "").split(";")[0]!.trim().toLowerCase();
      if (type !== "application/pkcs10") {
        throw new KeyfleetError(
          "unsupported-media-type",
          `send the CSR as Content-Type: application/pkcs10 (base64 of its DER), not ${type ? quoted(type) : "without a content type"}`,
        );
      }
    });
    for (const base of [prefix, `${prefix}/:label`]) routes(est, base, services);
  });
}

type LabelParams = { Params: { label?: string } };

function routes(est: FastifyInstance, base: string, services: EstServices): void {
  const labelSchema = {
    hide: true,
    params: {
      type: "object",
      properties: { label: { type: "string", pattern: "^[A-Za-z0-9._-]{1,64}$" } },
    },
  } as const;

  // RFC 7030 §4.1: the current CA certificates, to anyone (a device bootstraps its trust with them).
  est.get<LabelParams>(`${base}/cacerts`, { schema: labelSchema }, async (request, reply) => {
    checkLabelName(request.params.label);
    const { der } = await services.authority.chain();
    return sendBase64(reply, `${pkcs7}; smime-type=certs-only`, certsOnly(der));
  });

  // RFC 7030 §4.5: what a CSR should carry; an authenticated device gets a fresh nonce in it.
  est.get<LabelParams>(`${base}/csrattrs`, { schema: labelSchema }, async (request, reply) => {
    checkLabelName(request.params.label);
    const presented = presentedBy(request);
    const credential = presentsCredential(presented)
      ? await authenticatedDevice(services.enrollment, request, presented)
      : undefined;
    const nonce = credential ? (await services.enrollment.nonce(credential)).nonce : undefined;
    return sendBase64(reply, "application/csrattrs", csrAttrs({ nonce }));
  });

  for (const [path, renew] of [
    ["simpleenroll", false],
    ["simplereenroll", true],
  ] as const) {
    est.post<LabelParams & { Body: string }>(
      `${base}/${path}`,
      { schema: labelSchema },
      async (request, reply) => {
        const credential = await authenticatedDevice(services.enrollment, request);
        const profile = labelProfile(request.params.label, credential);
        const issued = await services.enrollment.enroll({
          credential,
          csr: base64Body(request.body, "the CSR"),
          renew,
          profile,
        });
        return sendBase64(reply, `${pkcs7}; smime-type=certs-only`, certsOnly([issued.der]));
      },
    );
  }

  est.post(`${base}/serverkeygen`, { schema: labelSchema }, async () => {
    throw new KeyfleetError(
      "not-offered",
      "serverkeygen is not offered: a device's key is made on the device and never leaves it; send a CSR to simpleenroll",
    );
  });
}

function checkLabelName(label: string | undefined): void {
  if (label === "cacerts" || label === "csrattrs")
    throw new KeyfleetError("not-found", "no such EST resource");
}

/** A label is a profile for the device, or the device's own tenant (which then keeps its default profile). */
function labelProfile(label: string | undefined, credential: DeviceCredential): string | undefined {
  if (label === undefined) return undefined;
  if (Object.hasOwn(profileCatalog, label)) return label;
  if (label === credential.device.tenant) return undefined;
  throw new KeyfleetError(
    "not-found",
    `EST label ${quoted(label)} is neither a certificate profile (${Object.keys(profileCatalog).join(", ")}) nor the tenant of device ${quoted(credential.device.id)}`,
  );
}

/** RFC 8951 §3.1: base64, line breaks and other white space allowed, nothing else. */
function base64Body(body: unknown, what: string): Uint8Array {
  const text = typeof body === "string" ? body.replace(/[\r\n\t ]/g, "") : "";
  if (text.length === 0)
    throw new KeyfleetError("malformed-request", `the body is empty: send ${what}, base64 of its DER`);
  if (text.length % 4 !== 0 || !/^[A-Za-z0-9+/]+={0,2}$/.test(text)) {
    throw new KeyfleetError(
      "malformed-request",
      `the body is not base64: send ${what} as base64 of its DER (RFC 7030 §4.2.1)`,
    );
  }
  return new Uint8Array(Buffer.from(text, "base64"));
}

function sendBase64(reply: FastifyReply, type: string, der: Uint8Array): FastifyReply {
  return reply
    .type(type)
    .header("content-transfer-encoding", "base64")
    .send(Buffer.from(der).toString("base64"));
}
