/**
 * The native JSON enrollment API (issue 16 item 4), device side, for the case EST cannot serve: a
 * device whose key is in a token re-enrolling. node:tls cannot sign a handshake with a key it does
 * not hold (est-client.ts), so instead of a TLS client certificate the device proves possession of
 * its current credential with a signature made in the token over nonce ‖ SHA-256(CSR), and sends
 * the certificate chain it proves. The nonce, single-use and fresh, also rides in the CSR's
 * challengePassword, binding the request to this exchange.
 *
 * The wire format here is the agent's side of a contract the server (src/enrollment, on main) is
 * written against at the same time; the end-to-end tests pin it:
 *   GET  /api/v1/enroll/nonce?device=ID      → 200 {"nonce": "…"}
 *   POST /api/v1/enroll  {"deviceId", "csr": base64 DER, "nonce",
 *                         "evidence": {"type": "signature", "certificates": [base64 DER…], "signature": base64}}
 *                                            → 200 {"serial", "deviceId", "notAfter",
 *                                                   "certificate": PEM, "chain": [PEM, issuing CA first]}
 *   POST /api/v1/enroll/status?actions=rotate | /api/v1/enroll/erased
 *        {"deviceId", "nonce", "certificate": base64 DER, "signature": base64 over nonce ‖ "status"|"erased"}
 *                                            → 200 {"deviceId", "state", "action": "none"|"erase"|"wait"|"rotate",
 *                                                   "erased", "renewAt"?: ISO time (absent from older servers)}
 *                                              | 201 {"report", "reportedAt", "auditIndex"}
 */
import { createHash } from "node:crypto";
import type { Signer } from "../crypto/index.js";
import { KeyfleetError } from "../domain/index.js";
import { derOrPem } from "../pki/index.js";
import { httpsExchange, type HttpsResponse } from "./https-request.js";
import { serverRefusal } from "./server-errors.js";

export interface NativeClientOptions {
  readonly server: URL;
  readonly ca?: string;
  readonly timeoutMs?: number;
  readonly now?: () => Date;
}

export interface NativeEnrollment {
  readonly deviceId: string;
  readonly csr: Uint8Array;
  readonly nonce: string;
  /** The chain of the credential the device proves (current certificate first), DER. */
  readonly certificates: readonly Uint8Array[];
  /** The key of that credential: signs nonce ‖ SHA-256(CSR), in its token. */
  readonly signer: Signer;
}

/** A report to the server (status, erased), signed by the device's operational key. */
export interface SignedReport {
  readonly deviceId: string;
  readonly nonce: string;
  /** The certificate whose key signed, DER. */
  readonly certificate: Uint8Array;
  readonly signature: Uint8Array;
}

const actions = ["none", "erase", "wait", "rotate"] as const;

export interface ServerDeviceStatus {
  readonly state: string;
  /** "erase": the device is being retired; "wait": suspended; "rotate": renew now; "none": carry on. */
  readonly action: (typeof actions)[number];
  /** Whether the server holds the device's erase report already. */
  readonly erased: boolean;
  /** When the server holds the current certificate due; absent where it says nothing of it. */
  readonly renewAt?: Date;
}

/** What a report signs: the nonce's UTF-8 octets, then the purpose's. */
export function reportMessage(nonce: string, purpose: "status" | "erased"): Uint8Array {
  return new Uint8Array(Buffer.concat([Buffer.from(nonce, "utf8"), Buffer.from(purpose, "utf8")]));
}

const b64 = (bytes: Uint8Array): string => Buffer.from(bytes).toString("base64");

/** What the device signs: the nonce's UTF-8 octets, then the SHA-256 of the CSR's DER. */
export function evidenceMessage(nonce: string, csr: Uint8Array): Uint8Array {
  return new Uint8Array(
    Buffer.concat([Buffer.from(nonce, "utf8"), createHash("sha256").update(csr).digest()]),
  );
}

export class NativeEnrollmentClient {
  constructor(private readonly options: NativeClientOptions) {}

  async nonce(deviceId: string): Promise<string> {
    const url = new URL("/api/v1/enroll/nonce", this.options.server);
    url.searchParams.set("device", deviceId);
    const res = await this.#exchange(url, "GET");
    if (res.status !== 200) throw serverRefusal(res, "getting an enrollment nonce", this.#now());
    const nonce = (this.#json(res, "the nonce") as { nonce?: unknown }).nonce;
    if (typeof nonce !== "string" || nonce.length === 0 || nonce.length > 255) {
      throw new KeyfleetError("malformed-request", "the server's nonce answer holds no usable nonce");
    }
    return nonce;
  }

  async enroll(x: NativeEnrollment): Promise<Uint8Array[]> {
    const signature = await x.signer.sign(evidenceMessage(x.nonce, x.csr));
    const body = JSON.stringify({
      deviceId: x.deviceId,
      csr: b64(x.csr),
      nonce: x.nonce,
      evidence: { type: "signature", certificates: x.certificates.map(b64), signature: b64(signature) },
    });
    const res = await this.#exchange(new URL("/api/v1/enroll", this.options.server), "POST", body);
    if (res.status !== 200 && res.status !== 201) throw serverRefusal(res, "native enrollment", this.#now());
    const answer = this.#json(res, "the enrollment answer") as { certificate?: unknown; chain?: unknown };
    const pems = [answer.certificate, ...(Array.isArray(answer.chain) ? answer.chain : [])];
    if (typeof answer.certificate !== "string" || !pems.every((c) => typeof c === "string")) {
      throw new KeyfleetError("malformed-request", "the enrollment answer holds no certificate");
    }
    return pems.map((pem: string) => derOrPem(pem, "CERTIFICATE"));
  }

  /** The device's state and what it is to do, asked with a signature over nonce ‖ "status". */
  async status(report: SignedReport): Promise<ServerDeviceStatus> {
    const res = await this.#report("status", report);
    if (res.status !== 200) throw serverRefusal(res, "asking the device's status", this.#now());
    const answer = this.#json(res, "the status answer") as Record<string, unknown>;
    const action = actions.find((a) => a === answer.action);
    if (typeof answer.state !== "string" || action === undefined) {
      throw new KeyfleetError("malformed-request", "the status answer names no state and action");
    }
    const renewAt = typeof answer.renewAt === "string" ? new Date(answer.renewAt) : undefined;
    if (renewAt !== undefined && Number.isNaN(renewAt.getTime())) {
      throw new KeyfleetError("malformed-request", "the status answer's renewAt is not a time");
    }
    return {
      state: answer.state,
      action,
      erased: answer.erased === true,
      ...(renewAt === undefined ? {} : { renewAt }),
    };
  }

  /** Sends the report, signed over nonce ‖ "erased" before the key was destroyed. */
  async reportErased(report: SignedReport): Promise<void> {
    const res = await this.#report("erased", report);
    if (res.status !== 201) throw serverRefusal(res, "reporting the erase", this.#now());
  }

  #report(purpose: "status" | "erased", r: SignedReport): Promise<HttpsResponse> {
    const body = JSON.stringify({
      deviceId: r.deviceId,
      nonce: r.nonce,
      certificate: b64(r.certificate),
      signature: b64(r.signature),
    });
    const url = new URL(`/api/v1/enroll/${purpose}`, this.options.server);
    // The actions this agent knows beyond none, erase and wait: a server never tells it one it does not.
    if (purpose === "status") url.searchParams.set("actions", "rotate");
    return this.#exchange(url, "POST", body);
  }

  #json(res: HttpsResponse, what: string): unknown {
    try {
      return JSON.parse(res.body.toString("utf8"));
    } catch (cause) {
      throw new KeyfleetError("malformed-request", `${what} is not JSON`, { cause });
    }
  }

  #exchange(url: URL, method: "GET" | "POST", body?: string): Promise<HttpsResponse> {
    return httpsExchange({
      url,
      method,
      headers: {
        accept: "application/json",
        ...(body === undefined ? {} : { "content-type": "application/json" }),
      },
      ...(body === undefined ? {} : { body }),
      ...(this.options.ca === undefined ? {} : { ca: this.options.ca }),
      ...(this.options.timeoutMs === undefined ? {} : { timeoutMs: this.options.timeoutMs }),
    });
  }

  #now(): Date {
    return (this.options.now ?? (() => new Date()))();
  }
}
