/**
 * The algorithm registry: algorithms are data, not code paths (DESIGN.md §1.6). A key algorithm says
 * how keys are made and which signature scheme they sign with; a signature algorithm carries its
 * X.509 AlgorithmIdentifier, already DER-encoded, so the hot path never re-encodes it.
 */
import {
  createPublicKey,
  generateKeyPair as nodeGenerateKeyPair,
  verify as nodeVerify,
  type KeyObject,
} from "node:crypto";
import { promisify } from "node:util";
import { KeyfleetError } from "../domain/index.js";

export type KeyAlgorithmId = "p256" | "p384" | "ed25519" | "rsa2048" | "rsa3072" | "rsa4096";
export type SignatureAlgorithmId =
  | "ecdsa-sha256"
  | "ecdsa-sha384"
  | "ecdsa-sha512"
  | "ed25519"
  | "rsa-pkcs1-sha256"
  | "rsa-pkcs1-sha384"
  | "rsa-pkcs1-sha512";
export type KeyType = "ec" | "ed25519" | "rsa";
export type HashName = "sha256" | "sha384" | "sha512";

/**
 * What a key of an algorithm may serve as: "ca", a CA's key (root and issuing CAs, `keyfleet init`);
 * "service", an end-entity key of a service (TLS servers, OCSP responders); "device", a device's own
 * key, certified in its LDevID. Profiles accept the algorithms of their role, so which profiles take
 * an algorithm is said here, once, beside the algorithm.
 */
export type KeyRole = "ca" | "service" | "device";

export interface KeyAlgorithm {
  readonly id: KeyAlgorithmId;
  readonly label: string;
  readonly keyType: KeyType;
  readonly namedCurve?: "P-256" | "P-384";
  readonly modulusLength?: number;
  /** The scheme a key of this algorithm signs certificates, CRLs and responses with. */
  readonly signature: SignatureAlgorithmId;
  readonly roles: readonly KeyRole[];
}

export interface SignatureAlgorithm {
  readonly id: SignatureAlgorithmId;
  readonly oid: string;
  readonly keyType: KeyType;
  /** The digest named to node:crypto; null for Ed25519 (pure EdDSA). */
  readonly hash: HashName | null;
  /** AlgorithmIdentifier, DER. RFC 5758 §3.2: ECDSA has no parameters; RFC 4055 §5: RSA PKCS#1 has NULL. */
  readonly algorithmIdentifier: Uint8Array;
}

const hex = (s: string): Uint8Array => Uint8Array.from(Buffer.from(s.replace(/\s/g, ""), "hex"));

const everyRole: readonly KeyRole[] = ["ca", "service", "device"];

export const keyAlgorithms: Readonly<Record<KeyAlgorithmId, KeyAlgorithm>> = {
  p256: {
    id: "p256",
    label: "ECDSA P-256",
    keyType: "ec",
    namedCurve: "P-256",
    signature: "ecdsa-sha256",
    roles: everyRole,
  },
  p384: {
    id: "p384",
    label: "ECDSA P-384",
    keyType: "ec",
    namedCurve: "P-384",
    signature: "ecdsa-sha384",
    roles: everyRole,
  },
  ed25519: { id: "ed25519", label: "Ed25519", keyType: "ed25519", signature: "ed25519", roles: everyRole },
  // Device keys only. TPM 2.0 EK/AK keys and many secure elements are RSA-2048 and cannot be
  // changed, so refusing them would refuse the hardware. NIST SP 800-131A Rev. 2 §3 allows
  // signature generation at 112-bit security, which RSA-2048 has (SP 800-57 Pt. 1 Rev. 5 §5.6.1,
  // Table 2), through 2030 (SP 800-57 Pt. 1 Rev. 5 §5.6.3, Table 4); after that it is disallowed.
  // Keys Keyfleet makes or chooses (CAs, services) have no such constraint and stay ≥ 3072 bits.
  rsa2048: {
    id: "rsa2048",
    label: "RSA-2048",
    keyType: "rsa",
    modulusLength: 2048,
    signature: "rsa-pkcs1-sha256",
    roles: ["device"],
  },
  rsa3072: {
    id: "rsa3072",
    label: "RSA-3072",
    keyType: "rsa",
    modulusLength: 3072,
    signature: "rsa-pkcs1-sha256",
    roles: everyRole,
  },
  rsa4096: {
    id: "rsa4096",
    label: "RSA-4096",
    keyType: "rsa",
    modulusLength: 4096,
    signature: "rsa-pkcs1-sha384",
    roles: everyRole,
  },
};

export const signatureAlgorithms: Readonly<Record<SignatureAlgorithmId, SignatureAlgorithm>> = {
  "ecdsa-sha256": sig("ecdsa-sha256", "1.2.840.10045.4.3.2", "ec", "sha256", "300a06082a8648ce3d040302"),
  "ecdsa-sha384": sig("ecdsa-sha384", "1.2.840.10045.4.3.3", "ec", "sha384", "300a06082a8648ce3d040303"),
  "ecdsa-sha512": sig("ecdsa-sha512", "1.2.840.10045.4.3.4", "ec", "sha512", "300a06082a8648ce3d040304"),
  ed25519: sig("ed25519", "1.3.101.112", "ed25519", null, "300506032b6570"),
  "rsa-pkcs1-sha256": sig(
    "rsa-pkcs1-sha256",
    "1.2.840.113549.1.1.11",
    "rsa",
    "sha256",
    "300d06092a864886f70d01010b0500",
  ),
  "rsa-pkcs1-sha384": sig(
    "rsa-pkcs1-sha384",
    "1.2.840.113549.1.1.12",
    "rsa",
    "sha384",
    "300d06092a864886f70d01010c0500",
  ),
  "rsa-pkcs1-sha512": sig(
    "rsa-pkcs1-sha512",
    "1.2.840.113549.1.1.13",
    "rsa",
    "sha512",
    "300d06092a864886f70d01010d0500",
  ),
};

function sig(
  id: SignatureAlgorithmId,
  oid: string,
  keyType: KeyType,
  hash: HashName | null,
  algorithmIdentifierHex: string,
): SignatureAlgorithm {
  return { id, oid, keyType, hash, algorithmIdentifier: hex(algorithmIdentifierHex) };
}

const byOid = new Map(Object.values(signatureAlgorithms).map((a) => [a.oid, a]));

export function signatureAlgorithmByOid(oid: string): SignatureAlgorithm | undefined {
  return byOid.get(oid);
}

export function keyAlgorithm(id: string): KeyAlgorithm {
  const found = (keyAlgorithms as Record<string, KeyAlgorithm>)[id];
  if (!found) {
    throw new KeyfleetError(
      "unsupported-algorithm",
      `unknown key algorithm "${id}"; use one of ${Object.keys(keyAlgorithms).join(", ")}`,
    );
  }
  return found;
}

/** The algorithms a key of `role` may have, in registry order. */
export function keyAlgorithmsFor(role: KeyRole): KeyAlgorithmId[] {
  return Object.values(keyAlgorithms)
    .filter((a) => a.roles.includes(role))
    .map((a) => a.id);
}

const roleNames: Readonly<Record<KeyRole, string>> = {
  ca: "CA keys",
  service: "service keys (TLS servers, OCSP responders)",
  device: "device keys",
};

const rolesOf = (alg: KeyAlgorithm): string => alg.roles.map((r) => roleNames[r]).join(" and ");

/**
 * The algorithm `id`, if a key of `role` may have it; `unsupported-algorithm` otherwise, saying what
 * the algorithm is for and what to use instead (`keyfleet init --algorithm rsa2048`, for one).
 */
export function keyAlgorithmFor(id: string, role: KeyRole): KeyAlgorithm {
  const found = keyAlgorithm(id);
  if (!found.roles.includes(role)) {
    throw new KeyfleetError(
      "unsupported-algorithm",
      `${found.label} is for ${rolesOf(found)} only; ${roleNames[role]} use one of ${keyAlgorithmsFor(role).join(", ")}`,
    );
  }
  return found;
}

/** Why an algorithm is not for `role` (" (RSA-2048 is for device keys only)"), or "" when it is. */
export function roleRestriction(id: KeyAlgorithmId, role: KeyRole): string {
  const alg = keyAlgorithms[id];
  return alg.roles.includes(role) ? "" : ` (${alg.label} is for ${rolesOf(alg)} only)`;
}

/** The registry's RSA algorithm of a modulus size, or undefined (RSA-1024, RSA-8192…). */
export function rsaKeyAlgorithm(modulusBits: number): KeyAlgorithmId | undefined {
  return Object.values(keyAlgorithms).find((a) => a.keyType === "rsa" && a.modulusLength === modulusBits)?.id;
}

/** Which registry algorithm a public key is, or undefined for keys the registry does not know (P-521, RSA-1024…). */
export function keyAlgorithmOfKey(key: KeyObject): KeyAlgorithmId | undefined {
  const details = key.asymmetricKeyDetails;
  switch (key.asymmetricKeyType) {
    case "ec":
      return details?.namedCurve === "prime256v1"
        ? "p256"
        : details?.namedCurve === "secp384r1"
          ? "p384"
          : undefined;
    case "ed25519":
      return "ed25519";
    case "rsa":
      return details?.modulusLength === undefined ? undefined : rsaKeyAlgorithm(details.modulusLength);
    default:
      return undefined;
  }
}

/** Imports a SubjectPublicKeyInfo; malformed bytes become `malformed-request`. */
export function importPublicKey(spki: Uint8Array): KeyObject {
  try {
    return createPublicKey({
      key: Buffer.from(spki.buffer, spki.byteOffset, spki.byteLength),
      format: "der",
      type: "spki",
    });
  } catch (cause) {
    throw new KeyfleetError("malformed-request", "the public key (SubjectPublicKeyInfo) does not parse", {
      cause,
    });
  }
}

/** Verifies an X.509-encoded signature (ECDSA as DER Ecdsa-Sig-Value). A key/algorithm mismatch is false, not a throw. */
export function verifySignature(
  algorithm: SignatureAlgorithm,
  data: Uint8Array,
  publicKey: KeyObject,
  signature: Uint8Array,
): boolean {
  if (publicKey.asymmetricKeyType !== algorithm.keyType) return false;
  try {
    return nodeVerify(algorithm.hash, data, publicKey, signature);
  } catch {
    return false; // node throws on a structurally invalid signature; for a verifier that is simply "does not verify"
  }
}

const generateKeyPairAsync = promisify(nodeGenerateKeyPair);

/** Generates a key pair in this process. Only key stores call this: a device key is never made on the server. */
export async function generateKeyPair(
  id: KeyAlgorithmId,
): Promise<{ privateKey: KeyObject; publicKey: KeyObject }> {
  const alg = keyAlgorithm(id);
  switch (alg.keyType) {
    case "ec":
      return generateKeyPairAsync("ec", { namedCurve: alg.namedCurve! });
    case "ed25519":
      return generateKeyPairAsync("ed25519", {});
    case "rsa":
      return generateKeyPairAsync("rsa", { modulusLength: alg.modulusLength!, publicExponent: 0x10001 });
  }
}
