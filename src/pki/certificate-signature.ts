/**
 * Verifying a certificate's signature under its issuer's key: ECDSA (RFC 5758 §3.2), RSA PKCS#1
 * v1.5 (RFC 4055 §5), RSASSA-PSS (RFC 4055 §3.1, the hash and MGF1 hash named in its parameters)
 * and Ed25519 (RFC 8410 §3). An algorithm outside these is `unsupported`, never a pass.
 */
import { constants, createPublicKey, verify, type KeyObject } from "node:crypto";
import { tag } from "./der.js";
import {
  children,
  expect,
  malformed,
  readOid,
  readOnly,
  readSmallInteger,
  value,
  type Tlv,
} from "./der-reader.js";

type Hash = "sha256" | "sha384" | "sha512";

export type SignatureCheck = "good" | "bad" | "unsupported";

const ecdsa: Readonly<Record<string, Hash>> = {
  "1.2.840.10045.4.3.2": "sha256",
  "1.2.840.10045.4.3.3": "sha384",
  "1.2.840.10045.4.3.4": "sha512",
};
const rsaPkcs1: Readonly<Record<string, Hash>> = {
  "1.2.840.113549.1.1.11": "sha256",
  "1.2.840.113549.1.1.12": "sha384",
  "1.2.840.113549.1.1.13": "sha512",
};
const hashes: Readonly<Record<string, Hash>> = {
  "2.16.840.1.101.3.4.2.1": "sha256",
  "2.16.840.1.101.3.4.2.2": "sha384",
  "2.16.840.1.101.3.4.2.3": "sha512",
};
const rsaPss = "1.2.840.113549.1.1.10";
const mgf1 = "1.2.840.113549.1.1.8";
const ed25519 = "1.3.101.112";

interface Scheme {
  readonly keyType: "ec" | "rsa" | "ed25519";
  readonly hash: Hash | null;
  readonly pssSaltLength?: number;
}

/**
 * Issuer keys already made into KeyObjects, by their SPKI: a manufacturer CA signs every IDevID an
 * enrollment validates, and createPublicKey costs more than the verification itself (measured: ≈ 1
 * ms a call on a busy machine). A memo of a pure function, bounded: past the bound it starts over.
 */
const issuerKeys = new Map<string, KeyObject>();
const maxIssuerKeys = 1024;

function publicKeyOf(spki: Uint8Array): KeyObject {
  const id = Buffer.from(spki.buffer, spki.byteOffset, spki.byteLength).toString("base64");
  let key = issuerKeys.get(id);
  if (!key) {
    key = createPublicKey({ key: Buffer.from(spki), format: "der", type: "spki" });
    if (issuerKeys.size >= maxIssuerKeys) issuerKeys.clear();
    issuerKeys.set(id, key);
  }
  return key;
}

/** Does `signature` over `data` verify under `issuerSpki` with `algorithm` (an AlgorithmIdentifier, DER)? */
export function checkSignature(
  algorithm: Uint8Array,
  data: Uint8Array,
  signature: Uint8Array,
  issuerSpki: Uint8Array,
): SignatureCheck {
  let scheme: Scheme | undefined;
  let key: KeyObject;
  try {
    scheme = schemeOf(algorithm);
    if (!scheme) return "unsupported";
    key = publicKeyOf(issuerSpki);
  } catch {
    return "unsupported";
  }
  if (key.asymmetricKeyType !== scheme.keyType) return "bad";
  try {
    const ok =
      scheme.pssSaltLength === undefined
        ? verify(scheme.hash, data, key, signature)
        : verify(
            scheme.hash,
            data,
            { key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: scheme.pssSaltLength },
            signature,
          );
    return ok ? "good" : "bad";
  } catch {
    return "bad"; // a structurally invalid signature simply does not verify
  }
}

function schemeOf(algorithm: Uint8Array): Scheme | undefined {
  const w = "the signature algorithm";
  const [id, params, ...extra] = children(readOnly(algorithm, tag.sequence, w), w);
  if (!id || extra.length) return undefined;
  const name = readOid(id, w);
  const absentOrNull = !params || (params.tag === tag.null && params.end === params.valueStart);
  if (ecdsa[name] && !params) return { keyType: "ec", hash: ecdsa[name] };
  // RFC 4055 §5: NULL; some encoders omit it, which verifiers accept.
  if (rsaPkcs1[name] && absentOrNull) return { keyType: "rsa", hash: rsaPkcs1[name] };
  if (name === ed25519 && !params) return { keyType: "ed25519", hash: null };
  if (name === rsaPss && params) return pssScheme(params, w);
  return undefined;
}

/**
 * RSASSA-PSS-params (RFC 4055 §3.1): hashAlgorithm [0], maskGenAlgorithm [1], saltLength [2],
 * trailerField [3]. The defaults (SHA-1) are not accepted; the MGF1 hash must be the hash.
 */
function pssScheme(params: Tlv, w: string): Scheme | undefined {
  const fields = new Map(children(expect(params, tag.sequence, w), w).map((f) => [f.tag, f]));
  const hashField = fields.get(0xa0);
  const mgfField = fields.get(0xa1);
  if (!hashField || !mgfField) return undefined;
  const hash = hashes[readOid(children(onlyChild(hashField, w), w)[0]!, w)];
  const [mgfId, mgfHash] = children(onlyChild(mgfField, w), w);
  if (!hash || !mgfId || !mgfHash || readOid(mgfId, w) !== mgf1) return undefined;
  if (hashes[readOid(children(mgfHash, w)[0]!, w)] !== hash) return undefined;
  const salt = fields.get(0xa2);
  const saltLength = salt ? readSmallInteger(onlyChild(salt, w), w) : 20;
  const trailer = fields.get(0xa3);
  if (trailer && readSmallInteger(onlyChild(trailer, w), w) !== 1) return undefined;
  return { keyType: "rsa", hash, pssSaltLength: saltLength };
}

function onlyChild(t: Tlv, w: string): Tlv {
  const inner = children(t, w);
  if (inner.length !== 1 || value(t).length === 0) throw malformed(w, "bad parameters");
  return inner[0]!;
}
