/**
 * What enrollment transports (EST, the native JSON API) share: the device credentials a request
 * presents (its TLS client certificate, its Authorization header), and the audit of a refused
 * enrollment, as often as refusal-limiter.ts allows (a flood of bad tokens is one leaf a minute
 * per kind).
 */
import type { TLSSocket } from "node:tls";
import type { FastifyRequest } from "fastify";
import type { AuditLog } from "../audit/index.js";
import type { DeviceCredential, Enrollment, Presented } from "../enrollment/index.js";
import { refusalLimiter } from "./refusal-limiter.js";

declare module "fastify" {
  interface FastifyRequest {
    /** The device an enrollment request authenticated as (for the audit of its refusal). */
    enrollingDevice?: string;
  }
}

export function presentedBy(request: FastifyRequest): Presented {
  const socket = request.raw.socket as Partial<TLSSocket>;
  // The certificate's DER alone: getPeerCertificate() would parse every field into an object first.
  const raw =
    typeof socket.getPeerX509Certificate === "function" ? socket.getPeerX509Certificate()?.raw : undefined;
  return {
    clientCertificate: raw ? new Uint8Array(raw) : undefined,
    authorization: request.headers.authorization,
  };
}

export function enrollmentRefusalRecorder(audit: AuditLog) {
  const limiter = refusalLimiter();
  return async (request: FastifyRequest, code: string, reason: string): Promise<void> => {
    const route = `${request.method} ${request.routeOptions.url ?? request.url.split("?")[0]}`;
    const actor = request.enrollingDevice ? `device:${request.enrollingDevice}` : "anonymous";
    const { record, unrecordedBefore } = limiter.admit(`${actor} ${route} ${code}`);
    if (!record) return;
    await audit
      .record([
        {
          type: "enrollment.refused",
          actor,
          subject: request.enrollingDevice ? `device:${request.enrollingDevice}` : `enrollment:${route}`,
          details: { route, code, reason, remoteAddress: request.ip, unrecordedBefore },
        },
      ])
      .catch((cause: unknown) =>
        request.log.error({ err: cause }, "a refused enrollment could not be audited"),
      );
  };
}

/** Whether the request presents a device credential at all (else it is anonymous). */
export function presentsCredential(presented: Presented): boolean {
  return presented.clientCertificate !== undefined || presented.authorization !== undefined;
}

/** Authenticates the device, names it for the audit of a refusal, and lets its first use of a new certificate confirm it. */
export async function authenticatedDevice(
  enrollment: Enrollment,
  request: FastifyRequest,
  presented: Presented = presentedBy(request),
): Promise<DeviceCredential> {
  const credential = await enrollment.authenticate(presented);
  request.enrollingDevice = credential.device.id;
  await enrollment.confirmUse(credential);
  return credential;
}
