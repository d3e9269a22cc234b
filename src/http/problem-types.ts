/**
 * What each problem type means and what to do about it: the text of the page at /problems/<code>
 * that every problem's `type` points to. Keyed by ErrorCode, so a new code does not compile until
 * it is described here. Titles and statuses come from problem.ts, not from this table.
 */
import type { ErrorCode } from "../domain/index.js";

export interface ProblemType {
  /** What went wrong, in the terms of the request. */
  readonly meaning: string;
  /** What the caller (or the operator) can do about it. */
  readonly remedy: string;
}

export const problemTypes: Readonly<Record<ErrorCode, ProblemType>> = {
  "malformed-request": {
    meaning:
      "The request could not be read: a body that is not valid JSON or not JSON at all, a field that is unknown or of the wrong type, a value outside its allowed range, or bytes (PEM, DER, base64) that do not parse.",
    remedy:
      "Read the detail, which names the field or the part that is wrong, fix the request and send it again. The OpenAPI document at /openapi.json describes every field.",
  },
  "bad-signature": {
    meaning:
      "A signature in the request does not verify: most often a certificate signing request whose signature does not match its own public key (no proof of possession).",
    remedy:
      "Build the request again with the private key that belongs to its public key. A request edited after signing is no longer valid.",
  },
  "log-inconsistent": {
    meaning:
      "The audit log does not verify: an entry's hash is not the one the log recorded, an entry is missing or out of place, or a signed checkpoint's root is not the root of the entries before it. Someone changed the log's tables behind Keyfleet's back, or the export was edited.",
    remedy:
      "Keep the database and the export as they are for investigation. The detail names the first bad entry or checkpoint; compare with an earlier export or a copy of the checkpoints you kept.",
  },
  "weak-key": {
    meaning:
      "The request's public key is one Keyfleet never certifies, because a signature under it proves nothing: anyone can sign for it or compute its private key (an RSA exponent of 1 or below 65537, an RSA modulus that is even, has a small factor or is a perfect power; an Ed25519 point of small order), or it is no valid key of its algorithm (a point off its curve, a non-canonical encoding), or it is an EC point in a form relying parties cannot read (compressed or hybrid).",
    remedy:
      "Make a new key pair on the device with a standard key generator and send a new request; for an EC key, send the public point uncompressed (0x04, X, Y). The detail names the rule the key broke.",
  },
  "unsupported-algorithm": {
    meaning:
      "The key or signature algorithm is not one Keyfleet accepts, or not one the certificate profile allows.",
    remedy:
      "Make the key, and sign the request, with an algorithm the detail lists as accepted; the detail also names what it found.",
  },
  "forbidden-extension": {
    meaning:
      "The request asks for something its profile never grants: for instance a CA certificate (CA:true, keyCertSign) from the end-entity issuance API.",
    remedy:
      "Remove the extension from the request. CA certificates are made by `keyfleet init` and `keyfleet ca`, not by issuance.",
  },
  "profile-violation": {
    meaning:
      "The request breaks a rule of its certificate profile: a subject alternative name of a form the profile does not allow, a missing required name, or a validity longer than the profile permits.",
    remedy:
      "Change the request to fit the profile the detail names, or ask for a profile that allows what you need.",
  },
  "unknown-profile": {
    meaning: "The request names a certificate profile that does not exist.",
    remedy: "Use one of the profile names the detail lists.",
  },
  "not-found": {
    meaning:
      "What the request names (a device, a certificate serial, a CA, a route) does not exist, or it lies outside the scope of the token that asked.",
    remedy:
      "Check the identifier and the URL. With a scoped token, an object outside its scope also answers not found; ask with a token whose scope covers it.",
  },
  conflict: {
    meaning:
      "The request contradicts what the server already holds: an idempotency key (request id) reused for a different request, a device whose state refuses the change, or something that already exists.",
    remedy:
      "Re-read the current state. To retry a request, send exactly the same request with the same request id; for a new request, use a new request id.",
  },
  "invalid-transition": {
    meaning:
      "The device's lifecycle does not allow this command now: the command does not apply to the device's state (resume a device that is not suspended), the device is decommissioned (terminal), the evidence the transition needs was not given (a proof of possession, a passed attestation, a firmware manifest), or the decommissioning grace period has ended. The detail's reason names which.",
    remedy:
      "Read the device's state and history (`keyfleet device show ID`, `keyfleet device history ID`) and send the command that state allows, with the evidence the detail names. A decommissioned device can never be changed or registered again.",
  },
  "precondition-failed": {
    meaning:
      "The request's If-Match names a version of the resource that is no longer current: somebody changed it since you read it.",
    remedy:
      "Read the resource again (its ETag is the current version), decide again, and send the request with the new ETag.",
  },
  "identity-tombstoned": {
    meaning:
      "The hardware identity (serial number, IDevID certificate or public key) belonged to a device that was decommissioned. A decommissioned identity is tombstoned in every tenant, so a retired or stolen device can never be registered or enrolled again.",
    remedy:
      "Check the serial or the certificate: the detail names the decommissioned device. A device that really is new needs a new hardware identity from its manufacturer.",
  },
  "unknown-manufacturer": {
    meaning:
      "A device with an IDevID names no manufacturer, or one that is not registered: an IDevID is only accepted from a manufacturer whose CA certificates Keyfleet holds.",
    remedy:
      "Name the device's manufacturer, and have a ca-admin register it with its CA certificates first (`keyfleet manufacturer add NAME --ca FILE`).",
  },
  "untrusted-idevid": {
    meaning:
      "The device's IDevID does not validate (RFC 5280 path validation) to a CA certificate of the manufacturer it names: another maker's certificate, expired or not yet valid, a bad signature, a CA certificate missing, or a path the CAs' constraints forbid. The detail names the reason.",
    remedy:
      "Check that the IDevID is the device's own and that its manufacturer's CA certificates (root and intermediates) are registered (`keyfleet manufacturer show NAME`); add a missing one with `keyfleet manufacturer add-ca`.",
  },
  "invalid-policy": {
    meaning:
      "The policy document was not applied: it does not parse as YAML or JSON, breaks the policy/v1 schema, has a Cedar expression or policy that does not parse or type-check against Keyfleet's Cedar schema, names a profile or key algorithm that does not exist, or permits what no role grants. The detail's problems list every problem found.",
    remedy:
      "Fix each problem the detail lists and apply the document again (`keyfleet policy apply FILE`). The version in force is unchanged.",
  },
  "policy-violation": {
    meaning:
      "The policy in force does not allow this request for this device: the issuance rule that applies to it asks for another profile, a shorter validity, another key algorithm, or attestation evidence. The detail names the policy version and the rule.",
    remedy:
      "Read the rule (`keyfleet policy show`) and send a request it allows: for a key algorithm, a CSR with a key the rule lists; for attestation, enroll the device with its evidence.",
  },
  "key-store-locked": {
    meaning:
      "The key store that holds the CA keys cannot be opened: its key-encryption key is missing or wrong.",
    remedy:
      "Operator: start Keyfleet with the right passphrase (KEYFLEET_PASSPHRASE) or key-encryption key file. Clients: retry once the server has been unlocked.",
  },
  "key-not-found": {
    meaning: "A key the server needs (a CA key) is not in its key store, or is not active.",
    remedy:
      "Operator: check that Keyfleet runs with the key store the CA keys were made in (the data directory, or the HSM), and read the server log.",
  },
  "invalid-configuration": {
    meaning:
      "The server's configuration does not fit its data: for instance a CA key kept in a different key store from the one configured.",
    remedy:
      "Operator: read the detail and the server log, correct the configuration (flags, environment, keyfleet.yaml) and restart.",
  },
  "not-initialized": {
    meaning: "The authority has no CA yet, so it cannot issue or sign anything.",
    remedy: "Operator: run `keyfleet init`, then retry.",
  },
  unauthorized: {
    meaning:
      "The request carries no API token, or one the server does not know, or one that has expired or was revoked; or, at enrollment, no device credential, or one that does not authenticate the device (a client certificate that is neither its registered IDevID nor its good Keyfleet certificate, a bootstrap token that is unknown, another device's, spent or expired); or an OIDC JWT that does not verify: expired or not yet valid, from another issuer or for another audience, signed with a key the issuer's JWKS does not hold or with an algorithm Keyfleet does not accept, or without a valid Keyfleet role or scopes claim. The detail names the check that failed.",
    remedy:
      "Send a valid token as `Authorization: Bearer <token>`. An operator makes one with `keyfleet token create`; a JWT comes from the identity provider the server is configured with (KEYFLEET_OIDC_ISSUER).",
  },
  "unsupported-media-type": {
    meaning:
      "The request body is in a content type this endpoint does not take: EST enrollment takes a CSR as application/pkcs10 (base64 of its DER), the admin API takes application/json.",
    remedy: "Send the body with the Content-Type the detail names.",
  },
  "not-offered": {
    meaning:
      "The request asks for a protocol operation Keyfleet does not offer on purpose: EST serverkeygen, where the server would make the device's private key and send it over the network. A device's key is made on the device and never leaves it.",
    remedy:
      "Make the key on the device (its secure element, TPM or key store) and send a CSR to simpleenroll.",
  },
  "invalid-nonce": {
    meaning:
      "The nonce in the request (a CSR's challengePassword, or the nonce signed in enrollment evidence) is not one Keyfleet handed this device, or it was used already, or it expired. Each nonce is good for one enrollment, for five minutes: a request sent twice finds it spent, which is how a replay is refused.",
    remedy:
      "Ask for a new nonce (GET /api/v1/enroll/nonce, or EST csrattrs), build a new CSR or evidence with it, and send that. The detail says which check failed.",
  },
  forbidden: {
    meaning:
      "The token is valid but may not do this: its role lacks the permission, or its scope does not cover the request.",
    remedy:
      "Use a token with a role that has this permission, or one whose scope covers the request; the detail says what was missing.",
  },
  "store-unavailable": {
    meaning: "The server cannot reach its database.",
    remedy:
      "Retry later. Operator: check that the database (PostgreSQL, or the data directory) is reachable; /readyz reports it.",
  },
  unavailable: {
    meaning:
      "The server cannot take the request now: it is shutting down, a part it needs (a worker) has stopped, or the identity provider's key set (JWKS), needed to verify an OIDC JWT, could not be fetched.",
    remedy: "Retry the request, after a short wait, on this server or another.",
  },
  internal: {
    meaning: "The server failed in a way it did not expect. The request may not have been carried out.",
    remedy:
      "Retry; a request with a request id is safe to retry. If it persists, the operator finds the details in the server log.",
  },
};

/** Every error code, in the order of the table. */
export const errorCodes = Object.keys(problemTypes) as ErrorCode[];

export function isErrorCode(text: string): text is ErrorCode {
  return Object.hasOwn(problemTypes, text);
}
