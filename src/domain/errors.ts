/**
 * The one error type Keyfleet throws. `code` is stable and kebab-case: it is the suffix of the
 * problem+json `type` on HTTP and the reason a CLI command prints. The HTTP status for each code
 * is chosen in one table in src/http, never here.
 */
export type ErrorCode =
  | "malformed-request" // bytes that do not parse (DER, PEM, JSON)
  | "bad-signature" // a signature (CSR proof of possession, token) that does not verify
  | "weak-key" // a public key that proves nothing (RSA e = 1, small-order points, off-curve…): never certified
  | "unsupported-algorithm" // a key or signature algorithm the registry or the profile does not allow
  | "forbidden-extension" // a request for something the profile forbids (CA:true, keyCertSign…)
  | "profile-violation" // a request that breaks a profile rule (SAN rules, subject, validity)
  | "unknown-profile"
  | "not-found"
  | "conflict" // a uniqueness or compare-and-set failure
  | "invalid-transition" // a lifecycle command the device's state (or the evidence given) does not allow
  | "precondition-failed" // an If-Match that names another version than the current one
  | "identity-tombstoned" // a hardware identity of a decommissioned device: it never comes back
  | "unknown-manufacturer" // an IDevID whose manufacturer is not registered (or not named)
  | "untrusted-idevid" // an IDevID that does not validate to a CA certificate of its manufacturer
  | "invalid-policy" // a policy document that does not parse, type-check or fit the profiles: not applied
  | "policy-violation" // a request the policy in force does not allow (validity, key algorithm, attestation)
  | "key-store-locked" // the key-encryption key is missing or wrong
  | "key-not-found"
  | "invalid-configuration"
  | "not-initialized" // the authority has no CA yet: run `keyfleet init`
  | "unauthorized" // no or bad credentials
  | "invalid-nonce" // an enrollment nonce that is unknown, another device's, spent or expired
  | "forbidden" // credentials without the right role or scope
  | "store-unavailable"
  | "unavailable" // the server cannot take the request now (shutting down, a worker stopped): retry
  | "log-inconsistent" // the audit log does not verify: an entry or checkpoint was changed, removed or reordered
  | "unsupported-media-type" // a body in a content type the endpoint does not take
  | "not-offered" // a protocol operation Keyfleet does not offer, on purpose (EST serverkeygen)
  | "internal";

export class KeyfleetError extends Error {
  override readonly name = "KeyfleetError";
  constructor(
    readonly code: ErrorCode,
    message: string,
    options?: { cause?: unknown; detail?: Record<string, unknown> },
  ) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.detail = options?.detail;
  }
  readonly detail: Record<string, unknown> | undefined;
}

export function isKeyfleetError(e: unknown, code?: ErrorCode): e is KeyfleetError {
  return e instanceof KeyfleetError && (code === undefined || e.code === code);
}

/**
 * Caller input, quoted for an error message: JSON-escaped and cut at `max` characters, so that a
 * message never carries control characters or an unbounded (possibly secret) value back to the
 * caller and into the log.
 */
export function quoted(value: string, max = 64): string {
  return JSON.stringify(value.length > max ? `${value.slice(0, max)}…` : value);
}
