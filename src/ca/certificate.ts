/** The CA's view of an issued certificate, as the API, the CLI and the tests see it. */
import type { CertificateRow } from "../store/index.js";
import { toPem } from "../pki/index.js";

export interface IssuedCertificate {
  readonly serial: string;
  readonly issuerId: string;
  readonly subject: string;
  readonly sans: readonly string[];
  readonly profile: string;
  readonly keyAlgorithm: string;
  readonly deviceId: string | null;
  readonly requestId: string | null;
  /** The policy version its issuance was decided under (null: made by Keyfleet for itself, or before versions). */
  readonly policyVersion: number | null;
  readonly notBefore: Date;
  readonly notAfter: Date;
  readonly status: "good" | "hold" | "revoked";
  /** Why and since when it is not good (RFC 5280 reason name); null while it is good. */
  readonly revocation: {
    readonly reason: string;
    readonly revokedAt: Date;
    readonly invalidityDate: Date | null;
  } | null;
  readonly fingerprintSha256: string;
  readonly der: Uint8Array;
  readonly pem: string;
}

/** The columns a certificate's public view is made of (a stored row, or one just committed). */
export type CertificateFields = Pick<
  CertificateRow,
  | "serial"
  | "issuer_id"
  | "subject"
  | "sans"
  | "profile"
  | "key_algorithm"
  | "device_id"
  | "request_id"
  | "policy_version"
  | "not_before"
  | "not_after"
  | "status"
  | "fingerprint"
  | "der"
> &
  Partial<Pick<CertificateRow, "revoked_at" | "revocation_reason" | "invalidity_date">>;

export function certificateOf(row: CertificateFields): IssuedCertificate {
  return {
    serial: row.serial,
    issuerId: row.issuer_id,
    subject: row.subject,
    sans: typeof row.sans === "string" ? (JSON.parse(row.sans) as string[]) : row.sans,
    profile: row.profile,
    keyAlgorithm: row.key_algorithm,
    deviceId: row.device_id,
    requestId: row.request_id,
    policyVersion: row.policy_version ?? null,
    notBefore: row.not_before,
    notAfter: row.not_after,
    status: row.status,
    revocation:
      row.status === "good" || !row.revoked_at
        ? null
        : {
            reason: row.revocation_reason ?? "unspecified",
            revokedAt: row.revoked_at,
            invalidityDate: row.invalidity_date ?? null,
          },
    fingerprintSha256: Buffer.from(row.fingerprint).toString("hex"),
    der: new Uint8Array(row.der),
    pem: toPem("CERTIFICATE", row.der),
  };
}

/** The JSON form the API and the CLI's --json print (dates as ISO 8601). */
export function certificateJson(c: IssuedCertificate) {
  return {
    serial: c.serial,
    issuerId: c.issuerId,
    subject: c.subject,
    sans: c.sans,
    profile: c.profile,
    keyAlgorithm: c.keyAlgorithm,
    deviceId: c.deviceId,
    requestId: c.requestId,
    policyVersion: c.policyVersion,
    notBefore: c.notBefore.toISOString(),
    notAfter: c.notAfter.toISOString(),
    status: c.status,
    revocation: c.revocation && {
      reason: c.revocation.reason,
      revokedAt: c.revocation.revokedAt.toISOString(),
      invalidityDate: c.revocation.invalidityDate?.toISOString() ?? null,
    },
    fingerprintSha256: c.fingerprintSha256,
    pem: c.pem,
  };
}

export type CertificateJson = ReturnType<typeof certificateJson>;
