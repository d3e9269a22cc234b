/**
 * Enrollment (DESIGN §4, first contact): a device authenticates (its IDevID or a Keyfleet
 * certificate over TLS, or a one-time bootstrap token), sends a CSR made with a key that never
 * leaves it, and gets its certificate. The registry decides (state, scope, policy) and writes the
 * certificate with its lifecycle transition; what the device spent to get it (its bootstrap token,
 * its nonce) is spent in that same transaction, so a refused enrollment spends nothing and a
 * replay finds it spent. Transport-neutral: EST and the native API call this.
 */
import { createHash } from "node:crypto";
import type { IssuedCertificate } from "../ca/index.js";
import { KeyfleetError, quoted, type Clock, type EvidenceRef } from "../domain/index.js";
import { formatName, formatSan, readCertificate, type ParsedCsr } from "../pki/index.js";
import { deviceCaller } from "../policy/index.js";
import type { Device, Registry } from "../registry/index.js";
import type { BootstrapTokenRow, Tx } from "../store/index.js";
import { looksLikeBootstrapToken, type BootstrapTokens } from "./bootstrap-tokens.js";
import { deviceReports } from "./device-reports.js";
import type { Evidence, EvidenceVerifier } from "./evidence.js";
import type { EnrollmentNonces, Nonce } from "./nonces.js";

/** What a request presents to authenticate a device; the transport extracts it. */
export interface Presented {
  /** The TLS client certificate, DER, as the handshake proved its key. */
  readonly clientCertificate?: Uint8Array | undefined;
  /** The Authorization header, if any: Basic (device id and bootstrap token) or Bearer (bootstrap token). */
  readonly authorization?: string | undefined;
}

/** Who the device proved to be, and with what. */
export type DeviceCredential =
  | { readonly kind: "idevid"; readonly device: Device; readonly fingerprint: string }
  | {
      readonly kind: "certificate";
      readonly device: Device;
      readonly serial: string;
      readonly subject: string;
      readonly sans: readonly string[];
    }
  | { readonly kind: "bootstrap-token"; readonly device: Device; readonly token: BootstrapTokenRow }
  | {
      readonly kind: "hardware-key";
      readonly device: Device;
      /** What the evidence proved (EvidenceVerifier), recorded with the transition. */
      readonly proved: readonly EvidenceRef[];
    };

/** A credential proved by signed evidence: spend the nonce the signature covers with the certificate. */
export interface EvidencedCredential {
  readonly credential: DeviceCredential;
  readonly nonce: string;
}

export interface EnrollmentDeps {
  readonly registry: Registry;
  readonly bootstrapTokens: BootstrapTokens;
  readonly nonces: EnrollmentNonces;
  readonly evidence: EvidenceVerifier;
  readonly clock: Clock;
}

export interface EnrollRequest {
  readonly credential: DeviceCredential;
  /** The nonce signed evidence covered, spent with the certificate (a CSR's own challengePassword is too). */
  readonly nonce?: string | undefined;
  /** PKCS#10, DER. */
  readonly csr: Uint8Array;
  /** simplereenroll: renew the certificate the device authenticated with (RFC 7030 §4.2.2). */
  readonly renew: boolean;
  readonly profile?: string | undefined;
}

export function enrollment(deps: EnrollmentDeps) {
  return {
    authenticate: (presented: Presented) => authenticate(deps, presented),

    /**
     * The native API's device authentication: evidence over a nonce and this CSR, made with the
     * device's registered hardware identity key (checked by the EvidenceVerifier).
     */
    async authenticateByEvidence(input: {
      deviceId: string;
      nonce: string;
      csr: Uint8Array;
      evidence: Evidence;
    }): Promise<EvidencedCredential> {
      const caller = deviceCaller(input.deviceId);
      const [leaf] = input.evidence.certificates ?? [];
      if (leaf === undefined) {
        const device = await deps.registry.get(input.deviceId, caller, "device.enroll");
        const key = await deps.registry.hardwareKey(input.deviceId, caller);
        const proved = deps.evidence.verify({ ...input, key });
        return { credential: { kind: "hardware-key", device, proved }, nonce: input.nonce };
      }
      const der = new Uint8Array(Buffer.from(leaf, "base64"));
      const credential = await byClientCertificate(deps, der);
      if (credential.device.id !== input.deviceId) {
        throw new KeyfleetError(
          "unauthorized",
          `the evidence's certificate belongs to device ${quoted(credential.device.id)}, not ${quoted(input.deviceId)}`,
          { detail: { credential: "evidence", reason: "other-device" } },
        );
      }
      deps.evidence.verify({ ...input, key: readCertificate(der).subjectPublicKeyInfo });
      return { credential, nonce: input.nonce };
    },

    /** A nonce for `deviceId`, asked for before the device can authenticate (the native API's challenge). */
    challenge: async (deviceId: string): Promise<Nonce> => {
      await deps.registry.get(deviceId, deviceCaller(deviceId), "device.enroll");
      return deps.nonces.issue(deviceId);
    },

    /**
     * A device's first use of a new credential confirms it (provisioned → active; rotating →
     * active, the predecessor revoked as superseded). Other credentials change nothing.
     */
    async confirmUse(credential: DeviceCredential): Promise<void> {
      if (credential.kind !== "certificate") return;
      const evidence: EvidenceRef[] = [
        { kind: "proof-of-possession", ref: `tls-client-certificate:${credential.serial}` },
      ];
      await deps.registry.confirmCredential(
        credential.device.id,
        credential.serial,
        deviceCaller(credential.device.id),
        evidence,
      );
    },

    /** A nonce for the authenticated device to put in its CSR's challengePassword. */
    nonce: (credential: DeviceCredential): Promise<Nonce> => deps.nonces.issue(credential.device.id),

    enroll: (request: EnrollRequest) => enroll(deps, request),

    /** A device's signed status check and erase report (device-reports.ts). */
    reports: deviceReports(deps),
  };
}

export type Enrollment = ReturnType<typeof enrollment>;

async function enroll(deps: EnrollmentDeps, request: EnrollRequest): Promise<IssuedCertificate> {
  const { credential } = request;
  const deviceId = credential.device.id;
  const renewing = credential.kind === "certificate" ? credential : undefined;
  if (request.renew && !renewing) {
    throw new KeyfleetError(
      "unauthorized",
      "a re-enrollment authenticates with the certificate it renews: present it as the TLS client certificate",
      { detail: { credential: credential.kind, reason: "needs-certificate" } },
    );
  }
  if (!request.renew && renewing) {
    throw new KeyfleetError(
      "malformed-request",
      `device ${quoted(deviceId)} authenticated with its certificate ${renewing.serial}: renew it with simplereenroll (RFC 7030 §4.2.2)`,
    );
  }
  // The nonces to spend with the certificate: the one the evidence covers, and the CSR's own.
  const nonces = new Set<string>(request.nonce === undefined ? [] : [request.nonce]);
  return deps.registry.enroll(
    { deviceId, csr: request.csr, profile: request.profile },
    deviceCaller(deviceId),
    {
      evidence: evidenceOf(credential),
      renewing: renewing?.serial,
      credential: credential.kind,
      inspect: async (csr) => {
        if (csr.challengePassword !== undefined) nonces.add(csr.challengePassword);
        if (renewing) checkSameNames(csr, renewing, deviceId);
      },
      spend: async (tx: Tx, certificate) => {
        if (credential.kind === "bootstrap-token") {
          await deps.bootstrapTokens.spend(tx, credential.token, certificate.serial);
        }
        for (const nonce of nonces) await deps.nonces.spend(tx, deviceId, nonce);
      },
    },
  );
}

async function authenticate(deps: EnrollmentDeps, presented: Presented): Promise<DeviceCredential> {
  const token = bootstrapTokenOf(presented.authorization);
  if (presented.clientCertificate) {
    try {
      return await byClientCertificate(deps, presented.clientCertificate);
    } catch (e) {
      // A client certificate the device's TLS stack sends anyway, beside its bootstrap token.
      if (token === undefined) throw e;
    }
  }
  if (token === undefined) {
    throw new KeyfleetError(
      "unauthorized",
      "enrollment needs a device credential: a TLS client certificate (the device's IDevID, or its Keyfleet certificate to renew), or a bootstrap token as HTTP Basic (username: the device id) or Bearer",
      { detail: { credential: "none", reason: "missing" } },
    );
  }
  const row = await deps.bootstrapTokens.check(token.secret, token.deviceId);
  const device = await deps.registry.get(row.device_id, deviceCaller(row.device_id), "device.enroll");
  return { kind: "bootstrap-token", device, token: row };
}

async function byClientCertificate(deps: EnrollmentDeps, der: Uint8Array): Promise<DeviceCredential> {
  const found = await deps.registry.deviceOfClientCertificate(der);
  if (found.kind === "certificate") {
    return {
      kind: "certificate",
      device: found.device,
      serial: found.serial,
      subject: found.subject,
      sans: found.sans,
    };
  }
  return {
    kind: "idevid",
    device: found.device,
    fingerprint: createHash("sha256").update(der).digest("hex"),
  };
}

/** RFC 7617 Basic `device-id:token`, or RFC 6750 Bearer `token`, when the secret is a bootstrap token. */
function bootstrapTokenOf(
  header: string | undefined,
): { readonly deviceId: string | undefined; readonly secret: string } | undefined {
  if (!header) return undefined;
  const bearer = /^Bearer\s+(\S+)$/i.exec(header);
  if (bearer && looksLikeBootstrapToken(bearer[1]!)) return { deviceId: undefined, secret: bearer[1]! };
  const basic = /^Basic\s+([A-Za-z0-9+/=]+)$/i.exec(header);
  if (!basic) return undefined;
  const decoded = Buffer.from(basic[1]!, "base64").toString("utf8");
  const colon = decoded.indexOf(":");
  if (colon < 1) return undefined;
  const secret = decoded.slice(colon + 1);
  return looksLikeBootstrapToken(secret) ? { deviceId: decoded.slice(0, colon), secret } : undefined;
}

function evidenceOf(credential: DeviceCredential): readonly EvidenceRef[] {
  switch (credential.kind) {
    case "idevid":
      return [{ kind: "certificate", ref: `idevid-sha256:${credential.fingerprint}` }];
    case "certificate":
      return [{ kind: "certificate", ref: `certificate:${credential.serial}` }];
    case "bootstrap-token":
      return [{ kind: "ticket", ref: `bootstrap-token:${credential.token.id}` }];
    case "hardware-key":
      return credential.proved;
    default: {
      const never: never = credential;
      return never;
    }
  }
}

/**
 * RFC 7030 §4.2.2: a re-enrollment's Subject and SubjectAltName are those of the certificate it
 * renews. The registry writes the subject and the device URN itself, so the CSR may leave its
 * subject empty; what it names must be what the certificate names.
 */
function checkSameNames(
  csr: ParsedCsr,
  current: { readonly serial: string; readonly subject: string; readonly sans: readonly string[] },
  deviceId: string,
): void {
  const subject = formatName(csr.subject);
  if (csr.subject.length > 0 && subject !== current.subject) {
    throw new KeyfleetError(
      "profile-violation",
      `a re-enrollment keeps the subject of certificate ${current.serial} (${current.subject}), not ${subject} (RFC 7030 §4.2.2)`,
    );
  }
  const own = `URI:urn:keyfleet:device:${deviceId}`;
  const asked = new Set(csr.sans.map(formatSan).filter((s) => s !== own));
  const had = new Set(current.sans.filter((s) => s !== own));
  if (asked.size !== had.size || [...asked].some((s) => !had.has(s))) {
    throw new KeyfleetError(
      "profile-violation",
      `a re-enrollment keeps the subject alternative names of certificate ${current.serial} (${[...had].join(", ") || "none but the device's"}), not ${[...asked].join(", ") || "none"} (RFC 7030 §4.2.2)`,
    );
  }
}
