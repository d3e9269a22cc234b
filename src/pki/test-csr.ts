/**
 * TEST SUPPORT ONLY — not exported from index.ts. CSRs built byte by byte with our DER writer, for
 * inputs openssl will not make: degenerate keys with "signatures" forged from public data, and
 * requests with parts over the limits.
 */
import { createHash, sign, type KeyObject } from "node:crypto";
import { signatureAlgorithms, type SignatureAlgorithmId } from "../crypto/algorithms.js";
import { bitString, derNull, integer, oid, sequence, set, smallInteger, tlv, utf8String } from "./der.js";
import { L, decodePoint, encodePoint, equals, multiply, negate } from "./ed25519-point.js";
import { encodeName } from "./name.js";
import { oid as oids } from "./oids.js";

export interface CsrParts {
  /** The subject Name, DER (default: CN=test-device). */
  readonly subject?: Uint8Array;
  readonly spki: Uint8Array;
  /** Attribute DERs, inside `[0] IMPLICIT SET OF Attribute`. */
  readonly attributes?: readonly Uint8Array[];
  readonly signatureAlgorithm: SignatureAlgorithmId;
  /** The signature over the CertificationRequestInfo DER. */
  readonly sign: (info: Uint8Array) => Uint8Array;
}

export function csrInfo(parts: Omit<CsrParts, "signatureAlgorithm" | "sign">): Uint8Array {
  return sequence(
    smallInteger(0),
    parts.subject ?? encodeName([{ type: "CN", value: "test-device" }]),
    parts.spki,
    tlv(0xa0, ...(parts.attributes ?? [])),
  );
}

export function buildCsr(parts: CsrParts): Uint8Array {
  const info = csrInfo(parts);
  return sequence(
    info,
    signatureAlgorithms[parts.signatureAlgorithm].algorithmIdentifier,
    bitString(parts.sign(info)),
  );
}

/** A CSR signed by `privateKey` with node:crypto, over whatever `spki` says (it need not be the key's). */
export function signedCsr(
  privateKey: KeyObject,
  signatureAlgorithm: SignatureAlgorithmId,
  parts: Omit<CsrParts, "signatureAlgorithm" | "sign">,
): Uint8Array {
  const hash = signatureAlgorithms[signatureAlgorithm].hash;
  return buildCsr({
    ...parts,
    signatureAlgorithm,
    sign: (info) => new Uint8Array(sign(hash, info, privateKey)),
  });
}

export const attribute = (type: string, ...values: Uint8Array[]): Uint8Array =>
  sequence(oid(type), set(...values));

/** The extensionRequest attribute (RFC 2985 §5.4.2) with these Extension DERs. */
export const extensionRequest = (...extensions: Uint8Array[]): Uint8Array =>
  attribute(oids.extensionRequest, sequence(...extensions));

export const challengePassword = (password: string): Uint8Array =>
  attribute(oids.challengePassword, utf8String(password));

export function rsaSpki(modulus: Uint8Array, exponent: Uint8Array): Uint8Array {
  return sequence(
    sequence(oid(oids.rsaEncryption), derNull),
    bitString(sequence(integer(modulus), integer(exponent))),
  );
}

export const ed25519Spki = (point: Uint8Array): Uint8Array =>
  sequence(sequence(oid(oids.ed25519)), bitString(point));

export const ecSpki = (curve: "P-256" | "P-384", point: Uint8Array): Uint8Array =>
  sequence(sequence(oid(oids.ecPublicKey), oid(curve === "P-256" ? oids.p256 : oids.p384)), bitString(point));

const digestInfoPrefix: Readonly<Record<"sha256" | "sha384" | "sha512", string>> = {
  sha256: "3031300d060960864801650304020105000420",
  sha384: "3041300d060960864801650304020205000430",
  sha512: "3051300d060960864801650304020305000440",
};

/** EMSA-PKCS1-v1_5 (RFC 8017 §9.2) of `message`, `k` octets: under e = 1 it is its own signature. */
export function pkcs1v15Encoding(
  hash: "sha256" | "sha384" | "sha512",
  message: Uint8Array,
  k: number,
): Uint8Array {
  const t = Buffer.concat([
    Buffer.from(digestInfoPrefix[hash], "hex"),
    createHash(hash).update(message).digest(),
  ]);
  const em = new Uint8Array(k).fill(0xff);
  em[0] = 0x00;
  em[1] = 0x01;
  em[k - t.length - 1] = 0x00;
  em.set(t, k - t.length);
  return em;
}

/**
 * The attack of issue 13 (an RSA key with e = 1): the "signature" is the PKCS#1 v1.5 encoding of
 * the request itself (s^1 = s), made without any private key. `modulus` may be anyone's.
 */
export function exponentOneCsr(modulus: Uint8Array, subject?: Uint8Array): Uint8Array {
  return buildCsr({
    ...(subject ? { subject } : {}),
    spki: rsaSpki(modulus, Uint8Array.of(1)),
    signatureAlgorithm: "rsa-pkcs1-sha256",
    sign: (info) => pkcs1v15Encoding("sha256", info, modulus.length),
  });
}

/**
 * The attack of issue 13 on Ed25519: for a key A of small order, (R, S = 0) verifies when
 * R = −[k]A, k = SHA-512(R ‖ A ‖ M) mod L (RFC 8032 §5.1.7, cofactorless). R is tried among the
 * multiples of A and the subject varied until one fits: no private key, only public data.
 */
export function smallOrderEd25519Csr(key: Uint8Array, name = "forged-device"): Uint8Array {
  const decoded = decodePoint(key);
  if (!("point" in decoded)) throw new Error(`not a point: ${decoded.problem}`);
  const a = decoded.point;
  const spki = ed25519Spki(key);
  for (let attempt = 0; attempt < 64; attempt++) {
    const subject = encodeName([{ type: "CN", value: `${name}-${attempt}` }]);
    const info = csrInfo({ subject, spki });
    for (let j = 0n; j < 8n; j++) {
      const r = encodePoint(multiply(a, j));
      const k = littleEndian(createHash("sha512").update(r).update(key).update(info).digest()) % L;
      if (equals(negate(multiply(a, k)), multiply(a, j))) {
        const signature = new Uint8Array(64);
        signature.set(r); // S = 0
        return buildCsr({ subject, spki, signatureAlgorithm: "ed25519", sign: () => signature });
      }
    }
  }
  throw new Error("no forgery found (the key is not of small order?)");
}

const littleEndian = (bytes: Uint8Array): bigint =>
  BigInt(`0x${Buffer.from(bytes).reverse().toString("hex")}`);
