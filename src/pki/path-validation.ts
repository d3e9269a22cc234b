/**
 * Certification path validation (RFC 5280 §6) of an end-entity certificate, with optional
 * untrusted intermediates, to a set of trust anchors, at a given time. Pure: bytes and a time in,
 * a result out. Used for IDevIDs at registration (to the manufacturer's CA certificates) and, next,
 * at enrollment over TLS.
 *
 * Chain building (§6.1, RFC 4158 §3.5): an issuer is a certificate whose subject equals the
 * child's issuer name (DER, byte for byte) and, when both are present, whose subjectKeyIdentifier
 * equals the child's authorityKeyIdentifier; candidates are tried depth first, anchors first,
 * until a path validates. Any certificate among the anchors is one, self-signed or not (openssl's
 * `-partial_chain`); an anchor is held to what it is used for like every CA in the path (cA, keyUsage
 * keyCertSign, pathLenConstraint, validity), as `openssl verify -x509_strict` does; its own
 * signature is not checked (it is trusted as given).
 *
 * Not processed, so refused when marked critical (`unknown-critical-extension`): certificate
 * policies and policy constraints (§6.1.3 (d)), name constraints (§6.1.3 (b)), and any extension
 * not named in `processed`. Names are compared as DER, without the §7.1 normalisation: a CA that
 * re-encodes its own name differently in the certificates it issues does not chain.
 */
import { X509Certificate } from "node:crypto";
import { KeyfleetError } from "../domain/index.js";
import { readCertificate, type ReadCertificate } from "./certificate-reader.js";
import { checkSignature } from "./certificate-signature.js";
import { oid } from "./oids.js";

export type PathFailureReason =
  | "malformed" // a certificate of the path does not parse
  | "no-path-to-anchor" // no issuer found, up to a trust anchor
  | "path-too-long" // more certificates than `maxLength`
  | "expired"
  | "not-yet-valid"
  | "bad-signature"
  | "unsupported-algorithm" // a signature algorithm this module does not verify
  | "not-a-ca" // an issuer without basicConstraints cA TRUE, or whose keyUsage lacks keyCertSign
  | "path-length-exceeded" // more intermediates below a CA than its pathLenConstraint allows
  | "unknown-critical-extension";

export type PathValidation =
  | {
      readonly valid: true;
      /** Leaf first, the anchor last. */
      readonly path: readonly ReadCertificate[];
      /** The index of the anchor it reached, in the `anchors` given. */
      readonly anchorIndex: number;
    }
  | {
      readonly valid: false;
      readonly reason: PathFailureReason;
      readonly message: string;
      /** The failing certificate's place: 0 the leaf, 1 its issuer… */
      readonly depth: number;
    };

export interface PathValidationOptions {
  /** The time the path must be valid at (§6.1.1 (b)). */
  readonly at: Date;
  /** Untrusted certificates that may be intermediates (DER). */
  readonly intermediates?: readonly Uint8Array[];
  /** Certificates in a path, leaf and anchor included (default 8). */
  readonly maxLength?: number;
}

/** The extensions path processing acts on or may ignore when critical. */
const processed: ReadonlySet<string> = new Set([
  oid.basicConstraints,
  oid.keyUsage,
  oid.extKeyUsage,
  oid.subjectAltName,
  oid.subjectKeyIdentifier,
  oid.authorityKeyIdentifier,
]);

interface Candidate {
  readonly cert: ReadCertificate;
  /** Its index among the anchors; undefined for an intermediate. */
  readonly anchorIndex: number | undefined;
}

type Failure = Extract<PathValidation, { valid: false }>;

/** Validates `leaf` (DER) to one of `anchors` (DER certificates; one that does not parse throws). */
export function validatePath(
  leaf: Uint8Array,
  anchors: readonly Uint8Array[],
  options: PathValidationOptions,
): PathValidation {
  const trusted: Candidate[] = anchors.map((der, anchorIndex) => ({
    cert: readCertificate(der),
    anchorIndex,
  }));
  let start: ReadCertificate;
  let pool: Candidate[];
  try {
    start = readCertificate(leaf);
    pool = (options.intermediates ?? []).map((der) => ({
      cert: readCertificate(der),
      anchorIndex: undefined,
    }));
  } catch (e) {
    if (e instanceof KeyfleetError)
      return { valid: false, reason: "malformed", message: e.message, depth: 0 };
    throw e;
  }
  return extend([start], [...trusted, ...pool], undefined, options.maxLength ?? 8, options.at);
}

/** Depth-first: the first candidate path that validates, or the most telling failure. */
function extend(
  path: readonly ReadCertificate[],
  candidates: readonly Candidate[],
  anchorIndex: number | undefined,
  maxLength: number,
  at: Date,
): PathValidation {
  if (anchorIndex !== undefined) return checkPath(path, anchorIndex, at);
  const last = path[path.length - 1]!;
  if (path.length >= maxLength) {
    return fail("path-too-long", path.length - 1, `the path is longer than ${maxLength} certificates`, last);
  }
  const issuers = candidates.filter((c) => !path.includes(c.cert) && issues(c.cert, last));
  let best: Failure | undefined;
  for (const issuer of issuers) {
    const result = extend([...path, issuer.cert], candidates, issuer.anchorIndex, maxLength, at);
    if (result.valid) return result;
    if (!best || best.reason === "no-path-to-anchor") best = result;
  }
  return (
    best ??
    fail(
      "no-path-to-anchor",
      path.length - 1,
      "no trusted issuer (by name and key identifier) was found",
      last,
    )
  );
}

/** §4.2.1.1: the key identifiers decide where both are given; the names always must match. */
function issues(issuer: ReadCertificate, child: ReadCertificate): boolean {
  if (!equal(issuer.subject, child.issuer)) return false;
  if (child.authorityKeyId && issuer.subjectKeyId) return equal(child.authorityKeyId, issuer.subjectKeyId);
  return true;
}

/** §6.1.3–§6.1.4 on a built path, leaf first: extensions of every certificate, then signatures and times from the anchor down. */
function checkPath(path: readonly ReadCertificate[], anchorIndex: number, at: Date): PathValidation {
  let belowNotSelfIssued = 0; // intermediates below the CA at depth i that are not self-issued (§6.1.4 (l))
  for (let depth = 0; depth < path.length; depth++) {
    const cert = path[depth]!;
    const critical = [...cert.extensions.values()].find((e) => e.critical && !processed.has(e.oid));
    if (critical) {
      return fail(
        "unknown-critical-extension",
        depth,
        `critical extension ${critical.oid} is not processed`,
        cert,
      );
    }
    if (depth === 0) continue;
    // §6.1.4 (k): an issuer must be a CA
    if (!cert.basicConstraints?.ca)
      return fail("not-a-ca", depth, "issues certificates but is not a CA", cert);
    // §6.1.4 (n): and may sign certificates
    if (cert.keyCertSign === false) {
      return fail("not-a-ca", depth, "its keyUsage does not allow keyCertSign", cert);
    }
    // §6.1.4 (m): pathLenConstraint bounds the intermediates below it
    const limit = cert.basicConstraints.pathLength;
    if (depth > 1 && limit !== undefined && belowNotSelfIssued > limit) {
      return fail(
        "path-length-exceeded",
        depth,
        `its pathLenConstraint is ${limit}, and ${belowNotSelfIssued} intermediates follow it`,
        cert,
      );
    }
    if (!equal(cert.subject, cert.issuer)) belowNotSelfIssued++;
  }
  for (let depth = path.length - 1; depth >= 0; depth--) {
    const cert = path[depth]!;
    const issuer = path[depth + 1];
    if (issuer) {
      const failure = signatureFailure(cert, issuer, depth);
      if (failure) return failure;
    }
    // §6.1.3 (a)(2)
    if (at < cert.notBefore) {
      return fail("not-yet-valid", depth, `is valid from ${cert.notBefore.toISOString()}`, cert);
    }
    if (at > cert.notAfter) return fail("expired", depth, `expired at ${cert.notAfter.toISOString()}`, cert);
  }
  return { valid: true, path, anchorIndex };
}

/** §6.1.3 (a)(1), and §4.1.1.2: the signature algorithm inside and outside the TBS are the same. */
function signatureFailure(
  cert: ReadCertificate,
  issuer: ReadCertificate,
  depth: number,
): Failure | undefined {
  if (!equal(cert.signatureAlgorithm, cert.tbsSignatureAlgorithm)) {
    return fail("bad-signature", depth, "its two signature algorithm fields differ (§4.1.1.2)", cert);
  }
  switch (checkSignature(cert.signatureAlgorithm, cert.tbs, cert.signature, issuer.subjectPublicKeyInfo)) {
    case "good":
      return undefined;
    case "bad":
      return fail("bad-signature", depth, "its signature does not verify under its issuer's key", cert);
    case "unsupported":
      return fail("unsupported-algorithm", depth, "is signed with an algorithm that is not supported", cert);
  }
}

function fail(reason: PathFailureReason, depth: number, problem: string, cert: ReadCertificate): Failure {
  const who = depth === 0 ? "the certificate" : `the issuer at depth ${depth}`;
  return { valid: false, reason, depth, message: `${who} (${subjectText(cert)}) ${problem}` };
}

/** The subject as openssl prints it, for messages. */
export function subjectText(cert: Pick<ReadCertificate, "der">): string {
  try {
    return new X509Certificate(cert.der).subject.split("\n").join(", ");
  } catch {
    return "an unreadable subject";
  }
}

function equal(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}
