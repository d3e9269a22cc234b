/**
 * Issue 13, done-when 2: every profile (root, issuing CA, device bound and unbound, server,
 * responder) with every algorithm it allows, issued the way production issues it (the app on a
 * PGlite copy, `init`, the registry, `authority.issue` of openssl CSRs), checked against the rules
 * of RFC 5280, RFC 5480 (EC), RFC 8410 (Ed25519) and RFC 4055 / RFC 3279 (RSA), one rule a test.
 *
 * The bytes are read twice: by @peculiar/asn1-x509 (a second parser must accept them) and by the
 * strict TLV reader of test/support/x509-fields.ts, for the rules about exact bytes. Expected
 * values are written here from the RFCs, not read from src/pki, so the writer cannot agree with
 * itself by mistake; the RSA hashes are the registry's choice and come from it, as the rule says.
 */
import { createHash, createPublicKey, verify } from "node:crypto";
import { AsnConvert } from "@peculiar/asn1-schema";
import {
  AuthorityInfoAccessSyntax,
  AuthorityKeyIdentifier,
  BasicConstraints,
  Certificate,
  CRLDistributionPoints,
  ExtendedKeyUsage,
  KeyUsage,
  SubjectAlternativeName,
  SubjectKeyIdentifier,
} from "@peculiar/asn1-x509";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { keyAlgorithms, signatureAlgorithms, type KeyAlgorithmId } from "../crypto/algorithms.js";
import type { ProfileName } from "./profiles.js";
import { workdir, type Workdir } from "../../test/support/openssl.js";
import {
  caAlgorithms,
  deviceSerial,
  endEntityCases,
  endEntityRequests,
  expectedSans,
  expectedSubject,
  issueHierarchy,
  type CertificateKind,
  type Hierarchy,
  type IssuedEntity,
} from "../../test/support/profile-matrix.js";
import {
  certificateFields,
  children,
  content,
  derProblems,
  encoding,
  generalNames,
  hex,
  nameAttributes,
  only,
  oidOf,
  timeOf,
  type CertificateFields,
  type ExtensionField,
} from "../../test/support/x509-fields.js";

// ─── What the RFCs say, written out ──────────────────────────────────────────────────────────────

const OID = {
  basicConstraints: "2.5.29.19",
  keyUsage: "2.5.29.15",
  extKeyUsage: "2.5.29.37",
  subjectAltName: "2.5.29.17",
  subjectKeyIdentifier: "2.5.29.14",
  authorityKeyIdentifier: "2.5.29.35",
  crlDistributionPoints: "2.5.29.31",
  authorityInfoAccess: "1.3.6.1.5.5.7.1.1",
  ocspNoCheck: "1.3.6.1.5.5.7.48.1.5",
  accessOcsp: "1.3.6.1.5.5.7.48.1",
  accessCaIssuers: "1.3.6.1.5.5.7.48.2",
  serverAuth: "1.3.6.1.5.5.7.3.1",
  clientAuth: "1.3.6.1.5.5.7.3.2",
  ocspSigning: "1.3.6.1.5.5.7.3.9",
  hardwareModuleName: "1.3.6.1.5.5.7.8.4",
  CN: "2.5.4.3",
  serialNumber: "2.5.4.5",
  C: "2.5.4.6",
  L: "2.5.4.7",
  ST: "2.5.4.8",
  O: "2.5.4.10",
  OU: "2.5.4.11",
  DC: "0.9.2342.19200300.100.1.25",
} as const;
const attributeName = new Map<string, string>(Object.entries(OID).map(([k, v]) => [v, k]));

type Kind = CertificateKind;
type Family = "ec" | "ed25519" | "rsa";

interface Curve {
  readonly name: string;
  /** AlgorithmIdentifier { id-ecPublicKey, namedCurve } (RFC 5480 §2.1.1), DER. */
  readonly spkiAlgorithm: string;
  readonly size: number;
  readonly p: bigint;
  readonly b: bigint;
  readonly n: bigint;
}
// FIPS 186-4 §D.1.2.3 and §D.1.2.4 (a = −3).
const curves: Partial<Record<KeyAlgorithmId, Curve>> = {
  p256: {
    name: "P-256 (secp256r1)",
    spkiAlgorithm: "301306072a8648ce3d020106082a8648ce3d030107",
    size: 32,
    p: 2n ** 256n - 2n ** 224n + 2n ** 192n + 2n ** 96n - 1n,
    b: 0x5ac635d8aa3a93e7b3ebbd55769886bc651d06b0cc53b0f63bce3c3e27d2604bn,
    n: 0xffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551n,
  },
  p384: {
    name: "P-384 (secp384r1)",
    spkiAlgorithm: "301006072a8648ce3d020106052b81040022",
    size: 48,
    p: 2n ** 384n - 2n ** 128n - 2n ** 96n + 2n ** 32n - 1n,
    b: 0xb3312fa7e23ee7e4988e056be3f82d19181d9c6efe8141120314088f5013875ac656398d8a2ed19d2a85c8edd3ec2aefn,
    n: 0xffffffffffffffffffffffffffffffffffffffffffffffffc7634d81f4372ddf581a0db248b0a77aecec196accc52973n,
  },
};
const rsaBits: Partial<Record<KeyAlgorithmId, number>> = { rsa2048: 2048, rsa3072: 3072, rsa4096: 4096 };
const familyOf = (a: KeyAlgorithmId): Family => (curves[a] ? "ec" : rsaBits[a] ? "rsa" : "ed25519");

const rsaSignature = {
  sha256: { oid: "1.2.840.113549.1.1.11", der: "300d06092a864886f70d01010b0500" },
  sha384: { oid: "1.2.840.113549.1.1.12", der: "300d06092a864886f70d01010c0500" },
  sha512: { oid: "1.2.840.113549.1.1.13", der: "300d06092a864886f70d01010d0500" },
} as const;

/**
 * The signature AlgorithmIdentifier a CA key of `a` must sign with: RFC 5480 §4 pairs P-256 with
 * SHA-256 and P-384 with SHA-384, parameters absent (RFC 5758 §3.2); Ed25519 has no parameters
 * (RFC 8410 §3); RSA PKCS#1 v1.5 with the registry's SHA-2 hash, parameters NULL (RFC 4055 §5).
 */
function expectedSignature(a: KeyAlgorithmId): { oid: string; der: string; hash: string | null } {
  if (a === "p256") return { oid: "1.2.840.10045.4.3.2", der: "300a06082a8648ce3d040302", hash: "sha256" };
  if (a === "p384") return { oid: "1.2.840.10045.4.3.3", der: "300a06082a8648ce3d040303", hash: "sha384" };
  if (a === "ed25519") return { oid: "1.3.101.112", der: "300506032b6570", hash: null };
  const hash = signatureAlgorithms[keyAlgorithms[a].signature].hash;
  if (hash !== "sha256" && hash !== "sha384" && hash !== "sha512") throw new Error(`${a} signs with ${hash}`);
  return { ...rsaSignature[hash], hash };
}

const caExtensions = [
  OID.basicConstraints,
  OID.keyUsage,
  OID.subjectKeyIdentifier,
  OID.authorityKeyIdentifier,
];
const revocationUrls = [OID.crlDistributionPoints, OID.authorityInfoAccess];
const named = [...caExtensions, OID.extKeyUsage, OID.subjectAltName, ...revocationUrls];
const expectedExtensions: Readonly<Record<Kind, readonly string[]>> = {
  root: caExtensions,
  issuing: [...caExtensions, ...revocationUrls],
  client: named,
  "device-bound": named,
  "client-san-only": named,
  "tls-server": named,
  "tls-server-own": named,
  "ocsp-responder": [...caExtensions, OID.extKeyUsage, ...revocationUrls, OID.ocspNoCheck],
};

/** keyUsage bits (RFC 5280 §4.2.1.3 numbering) each profile asserts, as profiles.ts documents them. */
const expectedKeyUsage: Readonly<Record<ProfileName, readonly number[]>> = {
  "root-ca": [0, 5, 6], // digitalSignature, keyCertSign, cRLSign
  "issuing-ca": [0, 5, 6],
  device: [0],
  client: [0],
  "tls-server": [0],
  "ocsp-responder": [0],
};
/** keyUsage bits a key type must never carry: RFC 5480 §3, RFC 8410 §5, RFC 3279 §2.3.1. */
const forbiddenKeyUsage: Readonly<Record<Family, readonly number[]>> = {
  ec: [2, 3], // keyEncipherment, dataEncipherment (keyAgreement would be allowed; encipher/decipherOnly only with it)
  ed25519: [2, 3, 4, 7, 8], // keyEncipherment, dataEncipherment, keyAgreement, encipherOnly, decipherOnly
  rsa: [4, 7, 8], // keyAgreement, encipherOnly, decipherOnly
};
const expectedEku: Readonly<Record<ProfileName, readonly string[]>> = {
  "root-ca": [],
  "issuing-ca": [],
  device: [OID.clientAuth],
  client: [OID.clientAuth],
  "tls-server": [OID.serverAuth],
  "ocsp-responder": [OID.ocspSigning],
};

const DAY = 86_400;
/** Default lifetimes in seconds, as profiles.ts gives them. */
const lifetime: Readonly<Record<ProfileName, number>> = {
  "root-ca": 20 * 365 * DAY,
  "issuing-ca": 10 * 365 * DAY,
  device: 365 * DAY,
  client: 90 * DAY,
  "tls-server": 90 * DAY,
  "ocsp-responder": 30 * DAY,
};

// ─── The certificates ────────────────────────────────────────────────────────────────────────────

interface CertCase {
  readonly id: string;
  readonly kind: Kind;
  readonly profile: ProfileName;
  readonly keyAlgorithm: KeyAlgorithmId;
}

interface HierarchySpec {
  readonly label: string;
  readonly caAlgorithm: KeyAlgorithmId;
  /** The app's clock (fixed), or the system clock. */
  readonly at?: string;
  readonly extra?: Readonly<Record<string, readonly [string, number]>>;
}

const oneSecond = "client/p256, one second before 2050";
const hierarchies: readonly HierarchySpec[] = [
  ...caAlgorithms.map((a) => ({ label: `${a} hierarchy`, caAlgorithm: a })),
  // RFC 5280 §4.1.2.5: made one second before 2050, so notBefore is UTCTime and every notAfter
  // GeneralizedTime; the one-second certificate ends exactly at 2050-01-01T00:00:00Z.
  {
    label: "p256 hierarchy made at 2049-12-31T23:59:59Z",
    caAlgorithm: "p256",
    at: "2049-12-31T23:59:59Z",
    extra: { [oneSecond]: ["client/p256", 1] },
  },
];

function casesOf(spec: HierarchySpec): CertCase[] {
  const ca = (kind: "root" | "issuing"): CertCase => ({
    id: kind,
    kind,
    profile: kind === "root" ? "root-ca" : "issuing-ca",
    keyAlgorithm: spec.caAlgorithm,
  });
  const extra = Object.entries(spec.extra ?? {}).map(([id, [base]]) => ({
    ...endEntityCases.find((c) => c.id === base)!,
    id,
  }));
  return [ca("root"), ca("issuing"), ...endEntityCases, ...extra];
}

interface Parsed {
  readonly der: Uint8Array;
  readonly f: CertificateFields;
  readonly x: Certificate;
}

interface Examined extends Parsed {
  readonly c: CertCase;
  readonly h: Hierarchy;
  readonly issuer: Parsed;
  readonly entity: IssuedEntity | undefined;
  readonly csr: string | undefined;
  /** The validity the case asked for (seconds), if not the profile's default. */
  readonly validitySeconds: number | undefined;
  /** The app's clock while the hierarchy was made: its fixed instant, or the span around it. */
  readonly madeBetween: readonly [Date, Date];
}

const parse = (der: Uint8Array): Parsed => ({
  der,
  f: certificateFields(der),
  x: AsnConvert.parse(der, Certificate),
});

function extensionOf(e: Parsed, oid: string): ExtensionField | undefined {
  return e.f.extensions.find((x) => x.oid === oid);
}
function required(e: Parsed, oid: string): ExtensionField {
  const found = extensionOf(e, oid);
  if (!found) throw new Error(`no extension ${oid}`);
  return found;
}
const isCritical = (x: ExtensionField): boolean =>
  x.critical !== undefined && content(x.critical)[0] === 0xff;
const bytesOf = (b: ArrayBuffer | Uint8Array): Uint8Array =>
  b instanceof Uint8Array ? b : new Uint8Array(b);
const big = (b: Uint8Array): bigint => (b.length ? BigInt(`0x${hex(b)}`) : 0n);

/** The subjectPublicKey BIT STRING's octets (after the unused-bits octet). */
function subjectPublicKey(f: CertificateFields): { unused: number; key: Uint8Array } {
  const [, bits] = children(f.spki);
  const c = content(bits!);
  return { unused: c[0]!, key: c.subarray(1) };
}

/** The SPKI of a PEM CSR: CertificationRequestInfo's third field (RFC 2986 §4.1). */
function csrSpki(pem: string): Uint8Array {
  const der = new Uint8Array(Buffer.from(pem.replace(/-----[^-]+-----|\s/g, ""), "base64"));
  const [info] = children(only(der));
  return encoding(children(info!)[2]!);
}

/** The set bit numbers of a named bit list BIT STRING's contents (bit 0 = MSB of the first octet). */
function setBits(bitString: Uint8Array): number[] {
  const out: number[] = [];
  for (let i = 1; i < bitString.length; i++) {
    for (let bit = 0; bit < 8; bit++) if (bitString[i]! & (0x80 >> bit)) out.push((i - 1) * 8 + bit);
  }
  return out;
}

// ─── The rules ───────────────────────────────────────────────────────────────────────────────────

interface Rule {
  /** The test's name, for a case in a hierarchy whose CA key is `ca`. */
  readonly name: string | ((c: CertCase, ca: KeyAlgorithmId) => string);
  readonly applies?: (c: CertCase) => boolean;
  readonly check: (e: Examined) => void;
}

const isCa = (c: CertCase): boolean => c.kind === "root" || c.kind === "issuing";
const issuerAlgorithm = (e: Examined): KeyAlgorithmId => e.h.caAlgorithm;

const structureRules: Rule[] = [
  {
    name: "X.690 §10–11: DER throughout (minimal lengths and INTEGERs, BOOLEAN FF, clean BIT STRINGs), nothing after it",
    check: (e) => {
      expect(derProblems(e.der)).toEqual([]);
      for (const x of e.f.extensions) expect(derProblems(x.value), `extension ${x.oid}`).toEqual([]);
    },
  },
  {
    name: "@peculiar/asn1-x509 parses it and re-encodes it to the same bytes",
    check: (e) => expect(hex(bytesOf(AsnConvert.serialize(e.x)))).toBe(hex(e.der)),
  },
  {
    name: "RFC 5280 §4.1.2.1: version is v3, encoded as [0] EXPLICIT INTEGER 2",
    check: (e) => {
      expect(e.f.version && hex(encoding(e.f.version))).toBe("a003020102");
    },
  },
  {
    name: "RFC 5280 §4.1.2.8: no issuerUniqueID or subjectUniqueID; §4.1.2.9: extensions present",
    check: (e) => expect(e.f.trailingTags).toEqual([0xa3]),
  },
  {
    name: "RFC 5280 §4.1.2.2: serial is positive, at most 20 octets, no leading zero octet beyond the sign; at least 64 bits (CA/B BR §7.1)",
    check: (e) => {
      const s = content(e.f.serial);
      expect(s.length).toBeGreaterThan(0);
      expect(s.length).toBeLessThanOrEqual(20);
      expect(s[0]! & 0x80, "negative").toBe(0);
      if (s.length > 1 && s[0] === 0) expect(s[1]! & 0x80, "a zero octet that is no sign").toBe(0x80);
      expect(big(s)).toBeGreaterThan(0n);
      expect(big(s)).toBeGreaterThanOrEqual(2n ** 63n);
    },
  },
  {
    name: "RFC 5280 §4.1.1.2: tbsCertificate.signature equals signatureAlgorithm byte for byte",
    check: (e) => expect(hex(encoding(e.f.signature))).toBe(hex(encoding(e.f.signatureAlgorithm))),
  },
  {
    name: (_c, ca) => {
      const want = expectedSignature(ca);
      const hash = want.hash
        ? `${want.hash.replace("sha", "SHA-")} for the ${keyAlgorithms[ca].label} issuer key`
        : "pure EdDSA";
      const params = {
        ec: "parameters absent (RFC 5758 §3.2)",
        ed25519: "parameters absent (RFC 8410 §3)",
        rsa: "parameters NULL (RFC 4055 §5)",
      }[familyOf(ca)];
      return `signature algorithm ${want.oid}: ${hash}${familyOf(ca) === "ec" ? " (RFC 5480 §4)" : ""}, ${params}`;
    },
    check: (e) => {
      const want = expectedSignature(issuerAlgorithm(e));
      const [algorithm, ...parameters] = children(e.f.signatureAlgorithm);
      expect(oidOf(algorithm!)).toBe(want.oid);
      if (familyOf(issuerAlgorithm(e)) === "rsa")
        expect(parameters.map((p) => hex(encoding(p)))).toEqual(["0500"]);
      else expect(parameters).toEqual([]);
      expect(hex(encoding(e.f.signatureAlgorithm))).toBe(want.der);
    },
  },
  {
    name: "RFC 5280 §4.1.1.3: the signature verifies under the issuer's key, encoded for its algorithm",
    check: (e) => {
      const issuerKey = createPublicKey({
        key: Buffer.from(encoding(e.issuer.f.spki)),
        format: "der",
        type: "spki",
      });
      const bits = content(e.f.signatureValue);
      expect(bits[0], "unused bits").toBe(0);
      const signature = bits.subarray(1);
      const alg = issuerAlgorithm(e);
      expect(verify(expectedSignature(alg).hash, encoding(e.f.tbs), issuerKey, signature)).toBe(true);
      const curve = curves[alg];
      if (curve) {
        // RFC 5480 §2.2 / RFC 3279 §2.2.3: Ecdsa-Sig-Value ::= SEQUENCE { r INTEGER, s INTEGER }, 0 < r, s < n
        const rs = children(only(signature)).map((t) => (expect(t.tag).toBe(0x02), big(content(t))));
        expect(rs).toHaveLength(2);
        for (const v of rs) expect(v > 0n && v < curve.n).toBe(true);
      } else if (alg === "ed25519") {
        expect(signature.length, "RFC 8032 §5.1.6: 64 octets").toBe(64);
      } else {
        expect(signature.length * 8, "RFC 8017 §8.2.1: k octets").toBe(rsaBits[alg]);
      }
    },
  },
  {
    name: (c) =>
      c.kind === "root"
        ? "RFC 5280 §4.1.2.4: a self-signed root's issuer is its subject byte for byte"
        : "RFC 5280 §4.1.2.4: issuer is the issuing CA's subject byte for byte",
    check: (e) => expect(hex(encoding(e.f.issuer))).toBe(hex(encoding(e.issuer.f.subject))),
  },
];

const validityRules: Rule[] = [
  {
    name: "RFC 5280 §4.1.2.5: UTCTime through 2049, GeneralizedTime from 2050, in Z, whole seconds",
    check: (e) => {
      for (const t of [e.f.notBefore, e.f.notAfter].map(timeOf)) {
        expect(t.text).toMatch(t.tag === 0x17 ? /^\d{12}Z$/ : /^\d{14}Z$/); // §4.1.2.5.1/.2: no fractions
        const year = t.date.getUTCFullYear();
        expect(t.tag, `${t.text} (year ${year})`).toBe(year <= 2049 ? 0x17 : 0x18);
      }
      // asn1-x509 reads the same instants
      expect(e.x.tbsCertificate.validity.notBefore.getTime().getTime()).toBe(
        timeOf(e.f.notBefore).date.getTime(),
      );
      expect(e.x.tbsCertificate.validity.notAfter.getTime().getTime()).toBe(
        timeOf(e.f.notAfter).date.getTime(),
      );
    },
  },
  {
    name: "validity: begins when issued, lasts the profile's lifetime, within the issuer's (RFC 5280 §6.1.3 (a)(2))",
    check: (e) => {
      const [nb, na] = [timeOf(e.f.notBefore).date, timeOf(e.f.notAfter).date];
      const [from, to] = e.madeBetween;
      expect(nb.getTime()).toBeGreaterThanOrEqual(Math.floor(from.getTime() / 1000) * 1000);
      expect(nb.getTime()).toBeLessThanOrEqual(to.getTime());
      const issuerEnd = timeOf(e.issuer.f.notAfter).date.getTime();
      const want = Math.min(nb.getTime() + 1000 * (e.validitySeconds ?? lifetime[e.c.profile]), issuerEnd);
      expect(na.getTime()).toBe(want);
      expect(nb.getTime()).toBeGreaterThanOrEqual(timeOf(e.issuer.f.notBefore).date.getTime());
    },
  },
];

const nameRules: Rule[] = [
  {
    name: "RFC 5280 §4.1.2.6 / App. A: UTF8String for DirectoryString attributes, PrintableString for C and serialNumber, IA5String for DC; one attribute per RDN",
    check: (e) => {
      for (const name of [e.f.subject, e.f.issuer]) {
        for (const rdn of nameAttributes(name)) {
          expect(rdn).toHaveLength(1);
          const { oid, stringTag } = rdn[0]!;
          const want = oid === OID.C || oid === OID.serialNumber ? 0x13 : oid === OID.DC ? 0x16 : 0x0c;
          expect(stringTag, attributeName.get(oid) ?? oid).toBe(want);
        }
      }
    },
  },
  {
    name: (c) =>
      c.kind === "device-bound"
        ? "IEEE 802.1AR: the subject is the registry's, CN and serialNumber the device serial, not what the CSR said"
        : "the subject is what was asked for, attribute by attribute, in order",
    check: (e) => {
      const got = nameAttributes(e.f.subject).map((rdn) => [attributeName.get(rdn[0]!.oid), rdn[0]!.value]);
      const want = expectedSubject(e.c.kind, e.c.keyAlgorithm, e.entity?.device);
      expect(got.map(([t]) => t)).toEqual(want.map(([t]) => t));
      want.forEach(([, v], i) =>
        typeof v === "string" ? expect(got[i]![1]).toBe(v) : expect(got[i]![1]).toMatch(v),
      );
      if (e.c.kind === "device-bound") {
        expect(e.entity!.device!.serialNumber).toBe(deviceSerial(e.c.keyAlgorithm));
        expect(got.flat()).not.toContain("what-the-device-claims");
      }
    },
  },
];

const keyRules: Rule[] = [
  {
    name: (c) =>
      ({
        ec: `RFC 5480 §2.1.1: id-ecPublicKey with namedCurve ${curves[c.keyAlgorithm]?.name} only; §2.2: uncompressed point (04) on the curve`,
        ed25519:
          "RFC 8410 §3–4: id-Ed25519, parameters absent, a 32-octet key (y canonical, below 2^255 − 19)",
        rsa: `RFC 3279 §2.3.1 / RFC 4055 §1.2: rsaEncryption with NULL parameters; a ${rsaBits[c.keyAlgorithm]}-bit odd modulus, exponent 65537`,
      })[familyOf(c.keyAlgorithm)],
    check: (e) => {
      const a = e.c.keyAlgorithm;
      const [algorithm] = children(e.f.spki);
      const { unused, key } = subjectPublicKey(e.f);
      expect(unused).toBe(0);
      const curve = curves[a];
      if (curve) {
        expect(hex(encoding(algorithm!))).toBe(curve.spkiAlgorithm);
        expect(key.length).toBe(1 + 2 * curve.size);
        expect(key[0], "uncompressed form").toBe(0x04);
        const x = big(key.subarray(1, 1 + curve.size));
        const y = big(key.subarray(1 + curve.size));
        expect(x < curve.p && y < curve.p).toBe(true);
        const mod = (v: bigint) => ((v % curve.p) + curve.p) % curve.p;
        expect(mod(y * y), "y² = x³ − 3x + b").toBe(mod(x * x * x - 3n * x + curve.b));
      } else if (a === "ed25519") {
        expect(hex(encoding(algorithm!))).toBe("300506032b6570");
        expect(key.length).toBe(32);
        const y = big(Uint8Array.from(key).reverse()) & ((1n << 255n) - 1n);
        expect(y < 2n ** 255n - 19n).toBe(true);
      } else {
        expect(hex(encoding(algorithm!))).toBe("300d06092a864886f70d0101010500");
        const [n, exponent, ...extra] = children(only(key));
        expect(extra).toEqual([]);
        expect(derProblems(key)).toEqual([]);
        const modulus = big(content(n!));
        expect(modulus.toString(2)).toHaveLength(rsaBits[a]!);
        expect(modulus & 1n).toBe(1n);
        expect(big(content(exponent!))).toBe(65537n);
      }
    },
  },
  {
    name: "the certified key is the key the CSR proved, byte for byte",
    applies: (c) => !isCa(c) && c.kind !== "tls-server-own",
    check: (e) => expect(hex(encoding(e.f.spki))).toBe(hex(csrSpki(e.csr!))),
  },
  {
    name: "the key is of the algorithm the case asked for (the CA's own key for a CA)",
    check: (e) => {
      const key = createPublicKey({ key: Buffer.from(encoding(e.f.spki)), format: "der", type: "spki" });
      const want = keyAlgorithms[e.c.keyAlgorithm];
      expect(key.asymmetricKeyType).toBe(want.keyType);
      if (want.modulusLength) expect(key.asymmetricKeyDetails?.modulusLength).toBe(want.modulusLength);
    },
  },
];

const extensionRules: Rule[] = [
  {
    name: "RFC 5280 §4.2: no extension appears twice",
    check: (e) => {
      const oids = e.f.extensions.map((x) => x.oid);
      expect(oids).toEqual([...new Set(oids)]);
    },
  },
  {
    name: (c) => `the extensions are exactly those of a ${c.kind} certificate`,
    check: (e) =>
      expect(e.f.extensions.map((x) => x.oid).sort()).toEqual([...expectedExtensions[e.c.kind]].sort()),
  },
  {
    name: "X.690 §11.5: a critical flag is encoded only when TRUE (DEFAULT FALSE is omitted)",
    check: (e) => {
      for (const x of e.f.extensions) if (x.critical) expect(hex(encoding(x.critical)), x.oid).toBe("0101ff");
    },
  },
  {
    name: (c) =>
      c.kind === "root"
        ? "RFC 5280 §4.2.1.9: basicConstraints critical, cA TRUE, no pathLenConstraint"
        : c.kind === "issuing"
          ? "RFC 5280 §4.2.1.9: basicConstraints critical, cA TRUE, pathLenConstraint 0"
          : "RFC 5280 §4.2.1.9: basicConstraints cA FALSE, no pathLenConstraint",
    check: (e) => {
      const x = required(e, OID.basicConstraints);
      const bc = AsnConvert.parse(x.value, BasicConstraints);
      if (isCa(e.c)) {
        expect(isCritical(x)).toBe(true);
        expect(bc.cA).toBe(true);
        expect(bc.pathLenConstraint).toBe(e.c.kind === "issuing" ? 0 : undefined);
      } else {
        expect(bc.cA).toBe(false);
        expect(bc.pathLenConstraint).toBeUndefined();
      }
    },
  },
  {
    name: (c) =>
      `RFC 5280 §4.2.1.3: keyUsage critical, exactly ${isCa(c) ? "digitalSignature, keyCertSign, cRLSign" : "digitalSignature"}, a minimal named bit list (X.690 §11.2.2)`,
    check: (e) => {
      const x = required(e, OID.keyUsage);
      expect(isCritical(x)).toBe(true);
      const bits = content(only(x.value));
      expect(setBits(bits)).toEqual(expectedKeyUsage[e.c.profile]);
      const last = bits[bits.length - 1]!;
      expect(last & (1 << bits[0]!), "the last bit named is set: trailing zeros removed").not.toBe(0);
      expect(AsnConvert.parse(x.value, KeyUsage).toJSON().sort()).toEqual(
        isCa(e.c) ? ["crlSign", "digitalSignature", "keyCertSign"] : ["digitalSignature"],
      );
    },
  },
  {
    name: (c) =>
      ({
        ec: "RFC 5480 §3: no keyEncipherment or dataEncipherment for an EC key",
        ed25519:
          "RFC 8410 §5: no keyEncipherment, dataEncipherment, keyAgreement, encipherOnly or decipherOnly for Ed25519",
        rsa: "RFC 3279 §2.3.1: no keyAgreement, encipherOnly or decipherOnly for an RSA key",
      })[familyOf(c.keyAlgorithm)],
    check: (e) => {
      const bits = setBits(content(only(required(e, OID.keyUsage).value)));
      for (const b of forbiddenKeyUsage[familyOf(e.c.keyAlgorithm)])
        expect(bits, `bit ${b}`).not.toContain(b);
    },
  },
  {
    name: "RFC 5280 §4.2.1.3: keyCertSign and cRLSign only with cA TRUE",
    applies: (c) => !isCa(c),
    check: (e) => {
      const bits = setBits(content(only(required(e, OID.keyUsage).value)));
      expect(bits).not.toContain(5);
      expect(bits).not.toContain(6);
    },
  },
  {
    name: (c) =>
      isCa(c)
        ? "RFC 5280 §4.2.1.12: a CA certificate carries no extKeyUsage"
        : `RFC 5280 §4.2.1.12: extKeyUsage is ${{ device: "clientAuth", client: "clientAuth", "tls-server": "serverAuth", "ocsp-responder": "OCSPSigning (RFC 6960 §4.2.2.2)", "root-ca": "", "issuing-ca": "" }[c.profile]} alone, non-critical`,
    check: (e) => {
      const x = extensionOf(e, OID.extKeyUsage);
      if (!expectedEku[e.c.profile].length) return expect(x).toBeUndefined();
      expect(isCritical(x!)).toBe(false);
      expect([...AsnConvert.parse(x!.value, ExtendedKeyUsage)]).toEqual(expectedEku[e.c.profile]);
    },
  },
  {
    name: "RFC 5280 §4.2.1.2: subjectKeyIdentifier present, non-critical, by RFC 7093 §2 method 1 (SHA-256 of subjectPublicKey, leftmost 160 bits)",
    check: (e) => {
      const x = required(e, OID.subjectKeyIdentifier);
      expect(isCritical(x)).toBe(false);
      const ski = bytesOf(AsnConvert.parse(x.value, SubjectKeyIdentifier).buffer);
      const method1 = createHash("sha256").update(subjectPublicKey(e.f).key).digest().subarray(0, 20);
      expect(hex(ski)).toBe(hex(method1));
    },
  },
  {
    name: (c) =>
      c.kind === "root"
        ? "RFC 5280 §4.2.1.1: authorityKeyIdentifier non-critical, keyIdentifier = its own SKI (self-signed)"
        : "RFC 5280 §4.2.1.1: authorityKeyIdentifier non-critical, keyIdentifier = the issuer's SKI",
    check: (e) => {
      const x = required(e, OID.authorityKeyIdentifier);
      expect(isCritical(x)).toBe(false);
      const aki = AsnConvert.parse(x.value, AuthorityKeyIdentifier);
      const issuerSki = AsnConvert.parse(
        required(e.issuer, OID.subjectKeyIdentifier).value,
        SubjectKeyIdentifier,
      );
      expect(hex(bytesOf(aki.keyIdentifier!.buffer))).toBe(hex(bytesOf(issuerSki.buffer)));
      // RFC 5280 §4.2.1.1 (ASN.1): authorityCertIssuer and authorityCertSerialNumber together or not at all
      expect(aki.authorityCertIssuer === undefined).toBe(aki.authorityCertSerialNumber === undefined);
    },
  },
  {
    name: (c) =>
      isCa(c) || c.kind === "ocsp-responder"
        ? "RFC 5280 §4.2.1.6: no subjectAltName (the profile carries none)"
        : c.kind === "client-san-only"
          ? "RFC 5280 §4.2.1.6: the subject is empty, so subjectAltName is critical; its names as asked"
          : "RFC 5280 §4.2.1.6: the subject is not empty, so subjectAltName is non-critical; its names as asked",
    check: (e) => {
      const x = extensionOf(e, OID.subjectAltName);
      const want = expectedSans(e.c.kind, e.c.keyAlgorithm, e.entity?.device);
      if (!want.length) return expect(x).toBeUndefined();
      expect(isCritical(x!)).toBe(children(e.f.subject).length === 0);
      expect(generalNames(x!.value)).toEqual(want);
      expect(AsnConvert.parse(x!.value, SubjectAlternativeName)).toHaveLength(want.length);
    },
  },
  {
    name: (c) =>
      c.kind === "root"
        ? "RFC 5280 §4.2.1.13 / §4.2.2.1: a root carries no CRL distribution point or AIA"
        : "RFC 5280 §4.2.1.13 / §4.2.2.1: one CRL distribution point (fullName URI) and AIA (OCSP, caIssuers) of the issuer, non-critical",
    check: (e) => {
      const crl = extensionOf(e, OID.crlDistributionPoints);
      const aia = extensionOf(e, OID.authorityInfoAccess);
      if (e.c.kind === "root") return expect([crl, aia]).toEqual([undefined, undefined]);
      const issuerId = e.c.kind === "issuing" ? e.h.root.id : e.h.issuing.id;
      expect([isCritical(crl!), isCritical(aia!)]).toEqual([false, false]);
      const points = AsnConvert.parse(crl!.value, CRLDistributionPoints);
      expect(points).toHaveLength(1);
      expect(points[0]!.reasons).toBeUndefined();
      expect(points[0]!.cRLIssuer).toBeUndefined();
      expect(points[0]!.distributionPoint!.fullName!.map((n) => n.uniformResourceIdentifier)).toEqual([
        `${e.h.publicUrl}/crl/${issuerId}.crl`,
      ]);
      const access = AsnConvert.parse(aia!.value, AuthorityInfoAccessSyntax);
      expect(access.map((a) => [a.accessMethod, a.accessLocation.uniformResourceIdentifier])).toEqual([
        [OID.accessOcsp, `${e.h.publicUrl}/ocsp`],
        [OID.accessCaIssuers, `${e.h.publicUrl}/ca/${issuerId}.cer`],
      ]);
    },
  },
  {
    name: (c) =>
      c.kind === "ocsp-responder"
        ? "RFC 6960 §4.2.2.2.1: id-pkix-ocsp-nocheck, NULL, non-critical"
        : "RFC 6960 §4.2.2.2.1: no ocsp-nocheck (responders only)",
    check: (e) => {
      const x = extensionOf(e, OID.ocspNoCheck);
      if (e.c.kind !== "ocsp-responder") return expect(x).toBeUndefined();
      expect(isCritical(x!)).toBe(false);
      expect(hex(x!.value)).toBe("0500");
    },
  },
  {
    name: "device-bound: the first SAN is urn:keyfleet:device:<registry id> (RFC 8141 syntax), the CSR's names after it",
    applies: (c) => c.kind === "device-bound",
    check: (e) => {
      const [first] = generalNames(required(e, OID.subjectAltName).value);
      expect(first).toBe(`URI:urn:keyfleet:device:${e.entity!.device!.id}`);
      expect(first).toMatch(/^URI:urn:[a-z0-9][a-z0-9-]{0,31}:[\x21-\x7e]+$/i);
    },
  },
];

const rules: readonly Rule[] = [
  ...structureRules,
  ...validityRules,
  ...nameRules,
  ...keyRules,
  ...extensionRules,
];

const ruleName = (rule: Rule, c: CertCase, ca: KeyAlgorithmId): string =>
  typeof rule.name === "string" ? rule.name : rule.name(c, ca);

// ─── The matrix ──────────────────────────────────────────────────────────────────────────────────

let dir: Workdir;
let csrs: ReadonlyMap<string, string>;
beforeAll(async () => {
  dir = await workdir();
  csrs = await endEntityRequests(dir);
});
afterAll(() => dir?.dispose());

describe.each(hierarchies.map((spec) => [spec.label, spec] as const))("%s", (_label, spec) => {
  let h: Hierarchy;
  const examined = new Map<string, Examined>();

  beforeAll(async () => {
    const from = new Date();
    h = await issueHierarchy(spec.caAlgorithm, csrs, {
      ...(spec.at ? { at: spec.at } : {}),
      extra: spec.extra ?? {},
    });
    const madeBetween = spec.at
      ? ([new Date(spec.at), new Date(spec.at)] as const)
      : ([from, new Date()] as const);
    const root = parse(h.root.der);
    const issuing = parse(h.issuing.der);
    for (const c of casesOf(spec)) {
      const entity =
        c.kind === "root" || c.kind === "issuing"
          ? undefined
          : (h.endEntities.get(c.id) ?? h.extra.get(c.id));
      const own = c.kind === "root" ? root : c.kind === "issuing" ? issuing : parse(entity!.der);
      const csrId = spec.extra?.[c.id]?.[0] ?? c.id;
      examined.set(c.id, {
        ...own,
        c,
        h,
        issuer: c.kind === "root" ? root : c.kind === "issuing" ? root : issuing,
        entity,
        csr: csrs.get(csrId),
        validitySeconds: spec.extra?.[c.id]?.[1],
        madeBetween,
      });
    }
  });
  afterAll(() => h?.dispose());

  for (const c of casesOf(spec)) {
    describe(`${c.kind === "root" ? "root CA" : c.kind === "issuing" ? "issuing CA" : c.id} (${keyAlgorithms[c.keyAlgorithm].label})`, () => {
      for (const rule of rules) {
        if (rule.applies && !rule.applies(c)) continue;
        test(ruleName(rule, c, spec.caAlgorithm), () => rule.check(examined.get(c.id)!));
      }
    });
  }

  test("RFC 5280 §4.1.2.2: every serial the issuing CA gave is different", () => {
    const serials = [...h.endEntities.values(), ...h.extra.values()].map((x) =>
      hex(content(certificateFields(x.der).serial)),
    );
    expect(new Set(serials).size).toBe(serials.length);
  });

  if (spec.at) {
    test("RFC 5280 §4.1.2.5: at 2049-12-31T23:59:59Z notBefore is UTCTime 491231235959Z; one second later is GeneralizedTime 20500101000000Z", () => {
      const boundary = examined.get(oneSecond)!;
      expect([boundary.f.notBefore, boundary.f.notAfter].map((t) => [t.tag, timeOf(t).text])).toEqual([
        [0x17, "491231235959Z"],
        [0x18, "20500101000000Z"],
      ]);
      for (const e of examined.values()) expect(e.f.notAfter.tag, e.c.id).toBe(0x18);
    });
  }
});
