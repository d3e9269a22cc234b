/**
 * Distinguished names (RFC 5280 §4.1.2.4, §4.1.2.6), restricted to the attribute types a device
 * identity authority needs, one attribute per RDN. String types follow RFC 5280 App. A and §4.1.2.4:
 * UTF8String for DirectoryString attributes, PrintableString for countryName and serialNumber,
 * IA5String for domainComponent (RFC 4519 §2.4).
 *
 * What a subject may not say: an e-mail address (RFC 5280 §4.1.2.6: new certificates carry e-mail
 * addresses as an rfc822Name SAN, and no Keyfleet profile carries one — a device has no mailbox);
 * characters that make a name read as something else (bidi controls such as U+202E, invisible
 * format characters, line separators, private-use and control characters: CVE-2021-42574 showed
 * what they do to a reader); a domainComponent that is not one DNS label, or DCs that name a
 * single-label domain (RFC 4519 §2.4, RFC 2247 §4: the DCs of a name spell a domain name).
 */
import { KeyfleetError, quoted } from "../domain/index.js";
import { ia5String, isPrintableString, oid, printableString, sequence, set, tag, utf8String } from "./der.js";
import { boundedChildren, children, expect, readOid, readOnly, readString, type Tlv } from "./der-reader.js";
import { limits } from "./limits.js";
import { isDnsLabel } from "./san.js";

export type NameAttributeType = "CN" | "O" | "OU" | "C" | "L" | "ST" | "serialNumber" | "DC";
export interface NameAttribute {
  readonly type: NameAttributeType;
  readonly value: string;
}
/** In encoding order, one attribute per RDN. */
export type DistinguishedName = readonly NameAttribute[];

type StringKind = "utf8" | "printable" | "ia5";
interface AttributeSpec {
  readonly oid: string;
  readonly kind: StringKind;
  /** Upper bound in characters (RFC 5280 App. A ub-* values). */
  readonly max: number;
}

const specs: Readonly<Record<NameAttributeType, AttributeSpec>> = {
  CN: { oid: "2.5.4.3", kind: "utf8", max: 64 },
  serialNumber: { oid: "2.5.4.5", kind: "printable", max: 64 },
  C: { oid: "2.5.4.6", kind: "printable", max: 2 },
  L: { oid: "2.5.4.7", kind: "utf8", max: 128 },
  ST: { oid: "2.5.4.8", kind: "utf8", max: 128 },
  O: { oid: "2.5.4.10", kind: "utf8", max: 64 },
  OU: { oid: "2.5.4.11", kind: "utf8", max: 64 },
  DC: { oid: "0.9.2342.19200300.100.1.25", kind: "ia5", max: 63 },
};

/** Attribute types refused with the reason, rather than as merely unknown. */
const refusedTypes: Readonly<Record<string, string>> = {
  "1.2.840.113549.1.9.1":
    "emailAddress is not issued: RFC 5280 §4.1.2.6 puts e-mail addresses in an rfc822Name subject alternative name, which no Keyfleet profile carries",
};

const typeByOid = new Map(Object.entries(specs).map(([type, s]) => [s.oid, type as NameAttributeType]));

const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

/**
 * Control (Cc), format (Cf: bidi embeddings, overrides and isolates, zero-width spaces, the BOM),
 * line and paragraph separators and private-use characters. ZWNJ and ZWJ (U+200C, U+200D) are
 * format characters that Persian, Indic scripts and emoji sequences need; they cannot reorder text.
 */
const MISLEADING = /(?![\u200c\u200d])[\p{Cc}\p{Cf}\p{Zl}\p{Zp}\p{Co}]/u;

/** Why `value` cannot be an attribute of `type`, or undefined when it can. */
function attributeProblem(type: NameAttributeType, value: string): string | undefined {
  const spec = specs[type] as AttributeSpec | undefined;
  if (!spec) return `unknown attribute type "${String(type)}"`;
  if (value.length === 0) return "is empty";
  if ([...value].length > spec.max) return `is longer than ${spec.max} characters (RFC 5280 App. A)`;
  if (type === "C" && !/^[A-Z]{2}$/.test(value))
    return "must be an ISO 3166 two-letter country code in capitals";
  if (spec.kind === "printable" && !isPrintableString(value)) {
    return "may contain only PrintableString characters (A–Z a–z 0–9 space ' ( ) + , - . / : = ?)";
  }
  if (type === "DC" && !isDnsLabel(value))
    return "must be one DNS label (letters, digits and inner hyphens; RFC 4519 §2.4)";
  const misleading = MISLEADING.exec(value);
  if (misleading) {
    const code = misleading[0].codePointAt(0)!.toString(16).toUpperCase().padStart(4, "0");
    return `contains U+${code}, a control, format or private-use character that can make a name read as another`;
  }
  if (LONE_SURROGATE.test(value)) return "contains invalid UTF-16";
  return undefined;
}

/** Throws `profile-violation` for a value its attribute type cannot carry, or a name that cannot be issued. */
export function checkName(dn: DistinguishedName): void {
  for (const { type, value } of dn) {
    const problem = attributeProblem(type, value);
    if (problem) throw new KeyfleetError("profile-violation", `subject ${type} ${problem}`);
  }
  // One name, one country, one serial: a second CN or serialNumber would be a second identity.
  for (const type of ["CN", "serialNumber", "C"] as const) {
    if (dn.filter((a) => a.type === type).length > 1) {
      throw new KeyfleetError("profile-violation", `subject has more than one ${type}`);
    }
  }
  if (dn.filter((a) => a.type === "DC").length === 1) {
    throw new KeyfleetError(
      "profile-violation",
      "subject DC names a single-label domain: the domainComponents of a name spell a domain name, one label each (DC=example, DC=com; RFC 2247 §4)",
    );
  }
}

export function encodeName(dn: DistinguishedName): Uint8Array {
  checkName(dn);
  return sequence(
    ...dn.map(({ type, value }) => set(sequence(oid(specs[type].oid), encodeValue(type, value)))),
  );
}

function encodeValue(type: NameAttributeType, value: string): Uint8Array {
  switch (specs[type].kind) {
    case "utf8":
      return utf8String(value);
    case "printable":
      return printableString(value);
    case "ia5":
      return ia5String(value);
  }
}

/** RFC 4514 §2.4 escaping, so the text form is unambiguous in logs and the SQL column. */
function escapeValue(value: string): string {
  return value
    .replace(/[\\,+"<>;=]/g, (c) => `\\${c}`)
    .replace(/^[ #]/, (c) => `\\${c}`)
    .replace(/ $/, "\\ ");
}

/** "CN=x, O=y", in encoding order. */
export function formatName(dn: DistinguishedName): string {
  return dn.map(({ type, value }) => `${type}=${escapeValue(value)}`).join(", ");
}

/**
 * A Name from DER. Multi-valued RDNs and attribute types outside NameAttributeType are refused with
 * `profile-violation` naming the OID: Keyfleet re-encodes every subject it signs, and will not drop
 * or guess at an attribute a requester asked for.
 */
/** A Name given as its own DER (a certificate's subject, as readCertificate returns it). */
export function decodeNameDer(der: Uint8Array, what: string): DistinguishedName {
  return decodeName(readOnly(der, tag.sequence, what), what);
}

export function decodeName(t: Tlv, what: string): DistinguishedName {
  expect(t, tag.sequence, what);
  return boundedChildren(t, limits.rdns, "RDNs", what).map((rdn) => {
    const atvs = children(expect(rdn, tag.set, what), what);
    if (atvs.length !== 1) {
      throw new KeyfleetError("profile-violation", `${what}: multi-valued RDNs are not supported`);
    }
    const [typeTlv, valueTlv, ...extra] = children(expect(atvs[0]!, tag.sequence, what), what);
    if (!typeTlv || !valueTlv || extra.length)
      throw new KeyfleetError("malformed-request", `${what}: bad attribute`);
    const attrOid = readOid(typeTlv, what);
    const type = typeByOid.get(attrOid);
    const refused = refusedTypes[attrOid];
    if (refused) throw new KeyfleetError("profile-violation", `${what}: ${refused}`);
    if (!type) {
      throw new KeyfleetError(
        "profile-violation",
        `${what}: attribute type ${quoted(attrOid)} is not supported; use ${Object.keys(specs).join(", ")}`,
      );
    }
    checkValueSize(type, valueTlv, what);
    return { type, value: readString(valueTlv, `${what} ${type}`) };
  });
}

// Octets a character takes at most in each string type (X.690 §8.23: UTF-8, UCS-2, UCS-4).
const octetsPerCharacter: Readonly<Record<number, number>> = {
  [tag.utf8String]: 4,
  [tag.bmpString]: 2,
  [tag.universalString]: 4,
};

/**
 * The RFC 5280 App. A upper bound, in octets, before the value is decoded: a value longer than
 * `max` characters in any encoding is refused without turning it into a string. checkName then
 * applies the bound in characters.
 */
function checkValueSize(type: NameAttributeType, value: Tlv, what: string): void {
  const max = specs[type].max * (octetsPerCharacter[value.tag] ?? 1);
  if (value.end - value.valueStart > max) {
    throw new KeyfleetError(
      "profile-violation",
      `${what} ${type} is longer than ${specs[type].max} characters (RFC 5280 App. A)`,
    );
  }
}
