/**
 * One HTTPS exchange with node:https (or plain HTTP, for CRLs and OCSP, which are signed objects
 * and need no TLS), bounded in time and size, with its failures as
 * KeyfleetErrors: a server that cannot be reached is `unavailable` (retry later); a server whose
 * certificate does not validate against the trust given is `invalid-configuration` (retrying
 * changes nothing: fix --ca-bundle).
 */
import { request as httpRequest } from "node:http";
import { request, type Agent } from "node:https";
import type { IncomingHttpHeaders } from "node:http";
import { KeyfleetError, quoted } from "../domain/index.js";

export interface HttpsExchange {
  readonly url: URL;
  readonly method: "GET" | "POST";
  readonly headers?: Record<string, string>;
  readonly body?: string | Uint8Array;
  /** Trust anchors for the server's certificate, PEM; the system's roots when absent. */
  readonly ca?: string;
  /** A TLS client certificate (chain, PEM) and its private key (PKCS#8 PEM). */
  readonly clientCertificate?: { readonly cert: string; readonly key: string };
  readonly timeoutMs?: number;
  readonly agent?: Agent;
  /** The largest answer taken (default 1 MiB: a few certificates). */
  readonly maxBytes?: number;
}

export interface HttpsResponse {
  readonly status: number;
  readonly headers: IncomingHttpHeaders;
  readonly body: Buffer;
}

/** An EST answer is a few certificates; a server that sends more is broken or hostile. */
const MAX_BODY = 1024 * 1024;

const tlsTrustCodes = new Set([
  "UNABLE_TO_VERIFY_LEAF_SIGNATURE",
  "UNABLE_TO_GET_ISSUER_CERT_LOCALLY",
  "SELF_SIGNED_CERT_IN_CHAIN",
  "DEPTH_ZERO_SELF_SIGNED_CERT",
  "CERT_HAS_EXPIRED",
  "CERT_NOT_YET_VALID",
  "ERR_TLS_CERT_ALTNAME_INVALID",
]);

export function httpsExchange(x: HttpsExchange): Promise<HttpsResponse> {
  const where = `${x.url.origin}${x.url.pathname}`;
  return new Promise((resolve, reject) => {
    const maxBody = x.maxBytes ?? MAX_BODY;
    const req = (x.url.protocol === "http:" ? httpRequest : request)(x.url, {
      method: x.method,
      headers: {
        ...x.headers,
        ...(x.body === undefined ? {} : { "content-length": String(Buffer.byteLength(x.body)) }),
      },
      ...(x.ca === undefined ? {} : { ca: x.ca }),
      ...(x.clientCertificate ?? {}),
      ...(x.agent ? { agent: x.agent } : {}),
      timeout: x.timeoutMs ?? 30_000,
    });
    req.on("timeout", () => req.destroy(Object.assign(new Error("timed out"), { code: "ETIMEDOUT" })));
    req.on("error", (e: NodeJS.ErrnoException) => reject(failure(e, where)));
    req.on("response", (res) => {
      const chunks: Buffer[] = [];
      let size = 0;
      res.on("data", (chunk: Buffer) => {
        size += chunk.length;
        if (size > maxBody) {
          req.destroy();
          reject(new KeyfleetError("malformed-request", `${where} answered more than ${maxBody} octets`));
        } else chunks.push(chunk);
      });
      res.on("error", (e: NodeJS.ErrnoException) => reject(failure(e, where)));
      res.on("end", () =>
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }),
      );
    });
    req.end(x.body);
  });
}

function failure(e: NodeJS.ErrnoException, where: string): KeyfleetError {
  const code = e.code ?? "unknown";
  if (tlsTrustCodes.has(code)) {
    return new KeyfleetError(
      "invalid-configuration",
      `the server ${quoted(where, 200)} has a certificate the CA bundle does not validate (${code}); check --ca-bundle`,
      { cause: e },
    );
  }
  return new KeyfleetError("unavailable", `cannot reach ${quoted(where, 200)}: ${code}`, { cause: e });
}
