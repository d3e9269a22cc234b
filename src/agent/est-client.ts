/**
 * The device side of EST (RFC 7030, with the RFC 8951 clarifications): /cacerts, /csrattrs,
 * /simpleenroll and /simplereenroll over HTTPS. A CSR goes as base64 of its DER with Content-Type application/pkcs10
 * (§4.2.1); the answer is a certs-only CMS message, application/pkcs7-mime, in base64 (§4.1.3,
 * §4.2.3). A 202 is a request held for approval: the client waits for Retry-After (with a little
 * jitter, so a fleet does not come back together) and asks again, for at most `maxPendingMs`.
 *
 * Authentication (§3.3): HTTP Basic with the device id and a one-time bootstrap token (§3.2.3), or
 * a TLS client certificate (§3.3.2): the IDevID, or for /simplereenroll the current certificate.
 * node:tls signs the TLS handshake with a private key in process memory and has no external-signer
 * hook, so TLS client authentication is only for keys that may be in process (the file key store,
 * an IDevID key file). A key in a token cannot authenticate a TLS handshake from node; such a device
 * renews through the native enrollment API instead, with a signature made in the token
 * (native-enrollment-client.ts).
 */
import { readCertsOnly } from "../pki/index.js";
import { KeyfleetError } from "../domain/index.js";
import { decodeEstBase64, encodeEstBase64 } from "./est-base64.js";
import { httpsExchange, type HttpsResponse } from "./https-request.js";
import { backoffDelay, retryAfterMs } from "./retry.js";
import { header, serverRefusal } from "./server-errors.js";

export type EstAuth =
  | { readonly kind: "basic"; readonly username: string; readonly password: string }
  | { readonly kind: "tls"; readonly certificatePem: string; readonly keyPem: string };

export interface EstClientOptions {
  /** The server's base URL (https://est.example:8443); the EST path prefix is added here. */
  readonly server: URL;
  /** RFC 7030 §3.2.2 arbitrary label (a tenant or profile). */
  readonly label?: string;
  /** Trust anchors for the server's TLS certificate, PEM (RFC 7030 §3.6.1 explicit TA). */
  readonly ca?: string;
  readonly timeoutMs?: number;
  /** How long to keep asking while the server answers 202 (default 10 minutes). */
  readonly maxPendingMs?: number;
  readonly now?: () => Date;
  readonly random?: () => number;
  readonly sleep?: (ms: number) => Promise<void>;
}

const sleepReal = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export class EstClient {
  constructor(private readonly options: EstClientOptions) {
    if (options.server.protocol !== "https:") {
      throw new KeyfleetError(
        "invalid-configuration",
        "EST runs over HTTPS only (RFC 7030 §3.3): use an https:// server URL",
      );
    }
  }

  /** /cacerts (§4.1): the CA certificates, DER, as the server ordered them. */
  async cacerts(): Promise<Uint8Array[]> {
    const res = await this.#exchange("cacerts", "GET");
    if (res.status !== 200) throw serverRefusal(res, "EST /cacerts", this.#now());
    return this.#certificates(res, "EST /cacerts");
  }

  /**
   * /csrattrs (§4.5): the attributes the server asks a CSR to hold, DER (empty when it asks for none,
   * 204). Authenticated with a new certificate, it is that certificate's first use, which Keyfleet
   * takes as the device's confirmation (confirm-in-use.ts).
   */
  async csrattrs(auth?: EstAuth): Promise<Uint8Array> {
    const res = await this.#exchange("csrattrs", "GET", undefined, auth);
    if (res.status === 204) return new Uint8Array(0);
    if (res.status !== 200) throw serverRefusal(res, "EST /csrattrs", this.#now());
    return decodeEstBase64(res.body.toString("latin1"), "EST /csrattrs's answer");
  }

  /** /simpleenroll (§4.2.1): the issued certificate first, then any chain the server adds, DER. */
  simpleenroll(csr: Uint8Array, auth: EstAuth): Promise<Uint8Array[]> {
    return this.#enroll("simpleenroll", csr, auth);
  }

  /** /simplereenroll (§4.2.2): same subject and SAN as the current certificate, authenticated by it. */
  simplereenroll(csr: Uint8Array, auth: EstAuth): Promise<Uint8Array[]> {
    return this.#enroll("simplereenroll", csr, auth);
  }

  async #enroll(
    operation: "simpleenroll" | "simplereenroll",
    csr: Uint8Array,
    auth: EstAuth,
  ): Promise<Uint8Array[]> {
    const doing = `EST /${operation}`;
    const started = this.#now().getTime();
    const maxPending = this.options.maxPendingMs ?? 10 * 60_000;
    for (let attempt = 0; ; attempt++) {
      const res = await this.#exchange(operation, "POST", csr, auth);
      if (res.status === 200) return this.#certificates(res, doing);
      if (res.status !== 202) throw serverRefusal(res, doing, this.#now());
      // §4.2.3: 202 with Retry-After; the client repeats the same request after it.
      const asked = retryAfterMs(header(res, "retry-after"), this.#now());
      const random = this.options.random ?? Math.random;
      const wait =
        asked === undefined ? backoffDelay(attempt, random) : asked + Math.round(random() * asked * 0.1);
      if (this.#now().getTime() + wait - started > maxPending) {
        throw new KeyfleetError(
          "unavailable",
          `${doing}: the request is still pending approval after ${Math.round((this.#now().getTime() - started) / 1000)} s; run the command again later`,
          {
            detail: { status: 202, ...(asked === undefined ? {} : { retryAfterMs: asked }) },
          },
        );
      }
      await (this.options.sleep ?? sleepReal)(wait);
    }
  }

  #certificates(res: HttpsResponse, doing: string): Uint8Array[] {
    // §4.1.3, §4.2.3: application/pkcs7-mime (smime-type=certs-only for enrollment answers).
    const type = String(header(res, "content-type") ?? "").toLowerCase();
    if (!type.startsWith("application/pkcs7-mime")) {
      throw new KeyfleetError(
        "malformed-request",
        `${doing}: the server answered ${type || "no content type"}, not application/pkcs7-mime`,
      );
    }
    const der = decodeEstBase64(res.body.toString("latin1"), `${doing}'s answer`);
    return readCertsOnly(der).map((c) => c.der);
  }

  #exchange(
    operation: string,
    method: "GET" | "POST",
    csr?: Uint8Array,
    auth?: EstAuth,
  ): Promise<HttpsResponse> {
    const path = `/.well-known/est/${this.options.label ? `${encodeURIComponent(this.options.label)}/` : ""}${operation}`;
    const headers: Record<string, string> = {};
    if (csr) headers["content-type"] = "application/pkcs10";
    if (auth?.kind === "basic") {
      // RFC 7617 §2: user-id ":" password, UTF-8, base64.
      headers.authorization = `Basic ${Buffer.from(`${auth.username}:${auth.password}`, "utf8").toString("base64")}`;
    }
    return httpsExchange({
      url: new URL(path, this.options.server),
      method,
      headers,
      ...(csr ? { body: encodeEstBase64(csr) } : {}),
      ...(this.options.ca === undefined ? {} : { ca: this.options.ca }),
      ...(auth?.kind === "tls" ? { clientCertificate: { cert: auth.certificatePem, key: auth.keyPem } } : {}),
      ...(this.options.timeoutMs === undefined ? {} : { timeoutMs: this.options.timeoutMs }),
    });
  }

  #now(): Date {
    return (this.options.now ?? (() => new Date()))();
  }
}
