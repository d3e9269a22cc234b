/**
 * TEST SUPPORT ONLY — not exported from index.ts. Builds, with @peculiar/x509 and asn1-x509 and
 * independently of our writer, the certificate our writer should produce for the same inputs: the
 * reference the byte-for-byte tests compare against.
 */
import "reflect-metadata";
import { createHash, webcrypto, type KeyObject } from "node:crypto";
import { AsnConvert, AsnProp, AsnPropTypes } from "@peculiar/asn1-schema";
import { GeneralName, GeneralNames, OtherName, SubjectPublicKeyInfo } from "@peculiar/asn1-x509";
import {
  AuthorityInfoAccessExtension,
  AuthorityKeyIdentifierExtension,
  BasicConstraintsExtension,
  CRLDistributionPointsExtension,
  ExtendedKeyUsageExtension,
  Extension,
  KeyUsageFlags,
  KeyUsagesExtension,
  Name,
  SubjectKeyIdentifierExtension,
  X509CertificateGenerator,
} from "@peculiar/x509";
import type { KeyAlgorithmId } from "../crypto/algorithms.js";
import type { DistinguishedName } from "./name.js";
import type { Profile } from "./profiles.js";
import type { SanEntry } from "./san.js";

export interface ReferenceInput {
  readonly serialHex: string;
  readonly subject: DistinguishedName;
  readonly issuerName: Uint8Array; // DER
  readonly issuerKeyId: Uint8Array;
  readonly sans: readonly SanEntry[];
  readonly spki: Uint8Array;
  readonly notBefore: Date;
  readonly notAfter: Date;
  readonly profile: Profile;
  readonly urls?: { readonly crl: string; readonly ocsp: string; readonly caIssuers: string };
  readonly signingKey: KeyObject;
  readonly signingAlgorithm: KeyAlgorithmId;
}

const attributeOid: Record<string, string> = {
  CN: "2.5.4.3",
  serialNumber: "2.5.4.5",
  C: "2.5.4.6",
  L: "2.5.4.7",
  ST: "2.5.4.8",
  O: "2.5.4.10",
  OU: "2.5.4.11",
  DC: "0.9.2342.19200300.100.1.25",
  emailAddress: "1.2.840.113549.1.9.1",
};

export function referenceName(dn: DistinguishedName): Name {
  const kind = (t: string) =>
    t === "C" || t === "serialNumber"
      ? "printableString"
      : t === "DC" || t === "emailAddress"
        ? "ia5String"
        : "utf8String";
  return new Name(dn.map((a) => ({ [attributeOid[a.type]!]: [{ [kind(a.type)]: a.value }] })) as never);
}

/** RFC 7093 §2 method 1, computed from asn1-x509's parse of the SPKI. */
export function referenceKeyId(spki: Uint8Array): Uint8Array {
  const parsed = AsnConvert.parse(spki, SubjectPublicKeyInfo);
  return new Uint8Array(
    createHash("sha256").update(new Uint8Array(parsed.subjectPublicKey)).digest().subarray(0, 20),
  );
}

/** RFC 4108 §5: HardwareModuleName ::= SEQUENCE { hwType OBJECT IDENTIFIER, hwSerialNum OCTET STRING } */
class HardwareModuleName {
  @AsnProp({ type: AsnPropTypes.ObjectIdentifier }) hwType = "";
  @AsnProp({ type: AsnPropTypes.OctetString }) hwSerialNum = new ArrayBuffer(0);
}

function generalName(s: SanEntry): GeneralName {
  switch (s.type) {
    case "dns":
      return new GeneralName({ dNSName: s.value });
    case "ip":
      return new GeneralName({ iPAddress: s.value });
    case "uri":
      return new GeneralName({ uniformResourceIdentifier: s.value });
    case "email":
      return new GeneralName({ rfc822Name: s.value });
    case "hardwareModuleName": {
      const hmn = new HardwareModuleName();
      hmn.hwType = s.hwType;
      hmn.hwSerialNum = new Uint8Array(Buffer.from(s.hwSerialNum, "hex")).buffer;
      return new GeneralName({
        otherName: new OtherName({ typeId: "1.3.6.1.5.5.7.8.4", value: AsnConvert.serialize(hmn) }),
      });
    }
  }
}

const hex = (b: Uint8Array): string => Buffer.from(b).toString("hex");
const usageFlag = {
  digitalSignature: KeyUsageFlags.digitalSignature,
  keyEncipherment: KeyUsageFlags.keyEncipherment,
  keyCertSign: KeyUsageFlags.keyCertSign,
  cRLSign: KeyUsageFlags.cRLSign,
};

function referenceExtensions(input: ReferenceInput): Extension[] {
  const { profile } = input;
  const extensions: Extension[] = [
    new BasicConstraintsExtension(profile.ca, profile.pathLength, true),
    new KeyUsagesExtension(
      profile.keyUsage.reduce((f, u) => f | usageFlag[u], 0),
      true,
    ),
  ];
  if (profile.extendedKeyUsage.length)
    extensions.push(new ExtendedKeyUsageExtension([...profile.extendedKeyUsage], false));
  if (input.sans.length) {
    const value = AsnConvert.serialize(new GeneralNames(input.sans.map(generalName)));
    extensions.push(new Extension("2.5.29.17", input.subject.length === 0, value));
  }
  extensions.push(new SubjectKeyIdentifierExtension(hex(referenceKeyId(input.spki)), false));
  extensions.push(new AuthorityKeyIdentifierExtension(hex(input.issuerKeyId), false));
  if (input.urls) {
    extensions.push(new CRLDistributionPointsExtension([input.urls.crl], false));
    extensions.push(
      new AuthorityInfoAccessExtension({ ocsp: [input.urls.ocsp], caIssuers: [input.urls.caIssuers] }, false),
    );
  }
  if (profile.ocspNoCheck)
    extensions.push(new Extension("1.3.6.1.5.5.7.48.1.5", false, Uint8Array.of(0x05, 0x00)));
  return extensions;
}

async function cryptoKey(
  key: KeyObject,
  algorithm: KeyAlgorithmId,
): Promise<{ key: CryptoKey; signing: Algorithm }> {
  const pkcs8 = key.export({ format: "der", type: "pkcs8" });
  const params: Record<
    KeyAlgorithmId,
    { import: Parameters<typeof webcrypto.subtle.importKey>[2]; signing: Algorithm }
  > = {
    p256: {
      import: { name: "ECDSA", namedCurve: "P-256" },
      signing: { name: "ECDSA", hash: "SHA-256" } as Algorithm,
    },
    p384: {
      import: { name: "ECDSA", namedCurve: "P-384" },
      signing: { name: "ECDSA", hash: "SHA-384" } as Algorithm,
    },
    ed25519: { import: { name: "Ed25519" }, signing: { name: "Ed25519" } },
    rsa2048: {
      import: { name: "RSASSA-PKCS1-v1_5", hash: "SHA-256" },
      signing: { name: "RSASSA-PKCS1-v1_5" },
    },
    rsa3072: {
      import: { name: "RSASSA-PKCS1-v1_5", hash: "SHA-256" },
      signing: { name: "RSASSA-PKCS1-v1_5" },
    },
    rsa4096: {
      import: { name: "RSASSA-PKCS1-v1_5", hash: "SHA-384" },
      signing: { name: "RSASSA-PKCS1-v1_5" },
    },
  };
  const p = params[algorithm];
  return {
    key: (await webcrypto.subtle.importKey("pkcs8", pkcs8, p.import, false, ["sign"])) as CryptoKey,
    signing: p.signing,
  };
}

/** The certificate @peculiar/x509's generator makes from the same inputs, DER. */
export async function referenceCertificate(input: ReferenceInput): Promise<Uint8Array> {
  const { key, signing } = await cryptoKey(input.signingKey, input.signingAlgorithm);
  const cert = await X509CertificateGenerator.create({
    serialNumber: input.serialHex,
    subject: referenceName(input.subject),
    issuer: new Name(new Uint8Array(input.issuerName)),
    notBefore: input.notBefore,
    notAfter: input.notAfter,
    publicKey: new Uint8Array(input.spki),
    signingKey: key,
    signingAlgorithm: signing,
    extensions: referenceExtensions(input),
  });
  return new Uint8Array(cert.rawData);
}
