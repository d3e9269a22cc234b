/**
 * How each registry algorithm is made and used in a PKCS#11 token: the key-pair generation
 * mechanism and its public-key attributes, the signing mechanism, and how the public key reads back
 * as a SubjectPublicKeyInfo. Signing hashes on the host and hands the token only the digest
 * (CKM_ECDSA, CKM_RSA_PKCS over a DigestInfo): SoftHSM 2.6 has no CKM_ECDSA_SHA256 (FIELD-NOTES),
 * and secure elements often have none either, while every token that signs has the raw mechanisms.
 */
import { createHash, createPublicKey } from "node:crypto";
import pkcs11js from "pkcs11js";
import { KeyfleetError } from "../domain/index.js";
import {
  keyAlgorithm,
  signatureAlgorithms,
  type KeyAlgorithmId,
  type SignatureAlgorithm,
} from "./algorithms.js";
import { ecdsaRawToDer } from "./ecdsa-signature.js";

// PKCS#11 v3.0 §6.3.5: Edwards-curve keys and EdDSA; pkcs11js 2.1 has no constants for them.
const CKK_EC_EDWARDS = 0x40;
const CKM_EC_EDWARDS_KEY_PAIR_GEN = 0x1055;
const CKM_EDDSA = 0x1057;

export interface Pkcs11KeyType {
  readonly keyType: number;
  readonly generation: number;
  readonly signing: number;
  /** Attributes of the public key template that choose the key (curve, modulus size). */
  readonly publicAttributes: pkcs11js.Template;
  /** The attributes that read back as the public key. */
  readonly publicKeyAttributes: readonly number[];
  toSpki(values: ReadonlyMap<number, Buffer>): Uint8Array;
  /** What the token signs for `data`: its digest (with a DigestInfo for RSA), or `data` itself (EdDSA). */
  input(data: Uint8Array): Buffer;
  /** The token's output, in the signature's X.509 encoding. */
  output(signature: Buffer): Uint8Array;
  /** Room for the token's output. */
  readonly signatureOctets: number;
}

const hex = (s: string): Buffer => Buffer.from(s, "hex");

function spkiOfJwk(jwk: Record<string, string>): Uint8Array {
  try {
    return new Uint8Array(
      createPublicKey({ key: jwk, format: "jwk" }).export({ format: "der", type: "spki" }),
    );
  } catch (cause) {
    throw new KeyfleetError("internal", "the token's public key does not import", { cause });
  }
}

/**
 * CKA_EC_POINT is a DER OCTET STRING around the point (PKCS#11 v2.40 §2.3.3; SoftHSM follows it),
 * though some tokens answer the bare point: told apart by length, since both may start with 0x04.
 */
export function unwrapEcPoint(value: Buffer, pointOctets: number): Buffer {
  if (value.length === pointOctets) return value;
  if (value.length === pointOctets + 2 && value[0] === 0x04 && value[1] === pointOctets)
    return value.subarray(2);
  throw new KeyfleetError(
    "internal",
    `the token's CKA_EC_POINT has ${value.length} octets, not a ${pointOctets}-octet point`,
  );
}

function ecdsa(id: "p256" | "p384", curveOid: string, coordinate: number): Pkcs11KeyType {
  const alg = keyAlgorithm(id);
  const hash = signatureAlgorithms[alg.signature].hash!;
  return {
    keyType: pkcs11js.CKK_EC,
    generation: pkcs11js.CKM_EC_KEY_PAIR_GEN,
    signing: pkcs11js.CKM_ECDSA,
    publicAttributes: [{ type: pkcs11js.CKA_EC_PARAMS, value: hex(curveOid) }],
    publicKeyAttributes: [pkcs11js.CKA_EC_POINT],
    toSpki(values) {
      const point = unwrapEcPoint(values.get(pkcs11js.CKA_EC_POINT)!, 1 + 2 * coordinate);
      const x = point.subarray(1, 1 + coordinate).toString("base64url");
      const y = point.subarray(1 + coordinate).toString("base64url");
      return spkiOfJwk({ kty: "EC", crv: alg.namedCurve!, x, y });
    },
    input: (data) => createHash(hash).update(data).digest(),
    output: (raw) => ecdsaRawToDer(raw),
    signatureOctets: 2 * coordinate,
  };
}

// RFC 8017 §9.2 note 1: the DER DigestInfo prefix of each hash.
const digestInfoPrefix: Readonly<Record<string, string>> = {
  sha256: "3031300d060960864801650304020105000420",
  sha384: "3041300d060960864801650304020205000430",
  sha512: "3051300d060960864801650304020305000440",
};

function rsa(id: "rsa2048" | "rsa3072" | "rsa4096"): Pkcs11KeyType {
  const alg = keyAlgorithm(id);
  const hash = signatureAlgorithms[alg.signature].hash!;
  return {
    keyType: pkcs11js.CKK_RSA,
    generation: pkcs11js.CKM_RSA_PKCS_KEY_PAIR_GEN,
    signing: pkcs11js.CKM_RSA_PKCS,
    publicAttributes: [
      { type: pkcs11js.CKA_MODULUS_BITS, value: alg.modulusLength! },
      { type: pkcs11js.CKA_PUBLIC_EXPONENT, value: hex("010001") },
    ],
    publicKeyAttributes: [pkcs11js.CKA_MODULUS, pkcs11js.CKA_PUBLIC_EXPONENT],
    toSpki: (values) =>
      spkiOfJwk({
        kty: "RSA",
        n: values.get(pkcs11js.CKA_MODULUS)!.toString("base64url"),
        e: values.get(pkcs11js.CKA_PUBLIC_EXPONENT)!.toString("base64url"),
      }),
    input: (data) => Buffer.concat([hex(digestInfoPrefix[hash]!), createHash(hash).update(data).digest()]),
    output: (signature) => new Uint8Array(signature),
    signatureOctets: alg.modulusLength! / 8,
  };
}

const ed25519: Pkcs11KeyType = {
  keyType: CKK_EC_EDWARDS,
  generation: CKM_EC_EDWARDS_KEY_PAIR_GEN,
  // PKCS#11 v3.0 §2.3.14: CKM_EDDSA without parameters is pure Ed25519 (RFC 8032 §5.1), over the message.
  signing: CKM_EDDSA,
  // v3.0 §2.3.10 allows the curve OID (RFC 8410 id-Ed25519) or the name "edwards25519"; SoftHSM 2.6 takes both.
  publicAttributes: [{ type: pkcs11js.CKA_EC_PARAMS, value: hex("06032b6570") }],
  publicKeyAttributes: [pkcs11js.CKA_EC_POINT],
  toSpki: (values) =>
    spkiOfJwk({
      kty: "OKP",
      crv: "Ed25519",
      x: unwrapEcPoint(values.get(pkcs11js.CKA_EC_POINT)!, 32).toString("base64url"),
    }),
  input: (data) => Buffer.from(data.buffer, data.byteOffset, data.byteLength),
  output: (signature) => new Uint8Array(signature),
  signatureOctets: 64,
};

const types: Readonly<Record<KeyAlgorithmId, Pkcs11KeyType>> = {
  p256: ecdsa("p256", "06082a8648ce3d030107", 32),
  p384: ecdsa("p384", "06052b81040022", 48),
  ed25519,
  rsa2048: rsa("rsa2048"),
  rsa3072: rsa("rsa3072"),
  rsa4096: rsa("rsa4096"),
};

export function pkcs11KeyType(algorithm: KeyAlgorithmId): Pkcs11KeyType {
  return types[keyAlgorithm(algorithm).id];
}

export function signatureAlgorithmOf(algorithm: KeyAlgorithmId): SignatureAlgorithm {
  return signatureAlgorithms[keyAlgorithm(algorithm).signature];
}
