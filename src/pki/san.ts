/**
 * Subject alternative names (RFC 5280 §4.2.1.6): the GeneralName forms a device identity needs,
 * including the IEEE 802.1AR / RFC 4108 §5 hardwareModuleName otherName that names a device by its
 * hardware type and serial number. Encoding, decoding and syntax checks live here; which types a
 * profile allows lives in profiles.ts.
 */
import { KeyfleetError, quoted } from "../domain/index.js";
import { contextPrimitive, explicit, ia5Bytes, implicit, octetString, oid, sequence, tag } from "./der.js";
import {
  boundedChildren,
  children,
  expect,
  malformed,
  readOctetString,
  readOid,
  value,
  type Tlv,
} from "./der-reader.js";
import { formatIp, parseIp } from "./ip.js";
import { limits } from "./limits.js";
import { oid as oids } from "./oids.js";

export type SanEntry =
  | { readonly type: "dns"; readonly value: string }
  | { readonly type: "ip"; readonly value: string }
  | { readonly type: "uri"; readonly value: string }
  | { readonly type: "email"; readonly value: string }
  | { readonly type: "hardwareModuleName"; readonly hwType: string; readonly hwSerialNum: string };
export type SanType = SanEntry["type"];

export function formatSan(s: SanEntry): string {
  switch (s.type) {
    case "dns":
      return `DNS:${s.value}`;
    case "ip":
      return `IP:${s.value}`;
    case "uri":
      return `URI:${s.value}`;
    case "email":
      return `email:${s.value}`;
    case "hardwareModuleName":
      return `HardwareModuleName:${s.hwType}:${s.hwSerialNum}`;
  }
}

// RFC 1034 §3.5 as relaxed by RFC 1123 §2.1; A-labels only (RFC 5280 §7.2), no wildcards, no trailing dot.
const DNS_LABEL = /^[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?$/;
const URI = /^[A-Za-z][A-Za-z0-9+.-]*:[\x21-\x7e]+$/; // §4.2.1.6: an absolute URI, ASCII, no spaces
const EMAIL = /^[\x21-\x3f\x41-\x7e]+@([A-Za-z0-9.-]+)$/; // §4.2.1.6 mailbox: local-part@domain, ASCII
const OID = /^[0-2](\.(0|[1-9]\d*))+$/;

/** One DNS label (the rule for each label of a dNSName, and for a subject domainComponent). */
export function isDnsLabel(label: string): boolean {
  return DNS_LABEL.test(label);
}

function isDnsName(name: string): boolean {
  return name.length <= limits.san.dns && name.split(".").every(isDnsLabel);
}

/** Why `s` cannot be written into a certificate, or undefined when it can. */
export function sanSyntaxProblem(s: SanEntry): string | undefined {
  switch (s.type) {
    case "dns":
      return isDnsName(s.value) ? undefined : "is not a DNS host name (letters, digits, hyphens; A-labels)";
    case "ip":
      return parseIp(s.value) ? undefined : "is not an IPv4 or IPv6 address";
    case "uri":
      return s.value.length <= limits.san.uri && URI.test(s.value)
        ? undefined
        : "is not an absolute ASCII URI";
    case "email": {
      const domain = EMAIL.exec(s.value)?.[1];
      return domain && s.value.length <= limits.san.email && isDnsName(domain)
        ? undefined
        : "is not an ASCII mailbox (local@domain)";
    }
    case "hardwareModuleName":
      return !OID.test(s.hwType)
        ? "hwType is not an OID"
        : !/^(?:[0-9A-Fa-f]{2}){1,64}$/.test(s.hwSerialNum)
          ? "hwSerialNum is not 1–64 octets of hex"
          : undefined;
  }
}

export function checkSanSyntax(s: SanEntry): void {
  const problem = sanSyntaxProblem(s);
  if (problem)
    throw new KeyfleetError(
      "profile-violation",
      `subject alternative name ${quoted(formatSan(s))} ${problem}`,
    );
}

/** One GeneralName (RFC 5280 §4.2.1.6); the entry's syntax is checked first. */
export function encodeGeneralName(s: SanEntry): Uint8Array {
  checkSanSyntax(s);
  switch (s.type) {
    case "email":
      return contextPrimitive(1, ia5Bytes(s.value));
    case "dns":
      return contextPrimitive(2, ia5Bytes(s.value));
    case "uri":
      return contextPrimitive(6, ia5Bytes(s.value));
    case "ip":
      return contextPrimitive(7, parseIp(s.value)!);
    case "hardwareModuleName": {
      // otherName [0] IMPLICIT SEQUENCE { type-id, [0] EXPLICIT HardwareModuleName } (RFC 4108 §5)
      const hmn = sequence(oid(s.hwType), octetString(Uint8Array.from(Buffer.from(s.hwSerialNum, "hex"))));
      return implicit(0, sequence(oid(oids.hardwareModuleName), explicit(0, hmn)));
    }
  }
}

/** The subjectAltName extension value: GeneralNames, SIZE (1..MAX). */
export function encodeGeneralNames(sans: readonly SanEntry[]): Uint8Array {
  return sequence(...sans.map(encodeGeneralName));
}

const unsupportedNames: Readonly<Record<number, string>> = {
  0xa3: "x400Address",
  0xa4: "directoryName",
  0xa5: "ediPartyName",
  0x88: "registeredID",
};

/** An IA5String GeneralName of at most `max` octets, checked before it is read. */
function ascii(t: Tlv, max: number, name: string, what: string): string {
  if (t.end - t.valueStart > max) throw malformed(what, `a ${name} longer than ${max} octets`);
  const v = value(t);
  for (const b of v)
    if (b > 0x7e || b < 0x20) throw malformed(what, "IA5String holds non-printable characters");
  return Buffer.from(v).toString("latin1");
}

/**
 * GeneralNames from DER (a CSR's requested subjectAltName). Forms Keyfleet does not issue are
 * refused with `profile-violation`: silently dropping a requested name would issue something else.
 */
export function decodeGeneralNames(t: Tlv, what: string): SanEntry[] {
  const names = boundedChildren(
    expect(t, tag.sequence, what),
    limits.sans,
    "subject alternative names",
    what,
  );
  if (names.length === 0) throw malformed(what, "empty GeneralNames (RFC 5280: SIZE (1..MAX))");
  return names.map((n): SanEntry => {
    switch (n.tag) {
      case 0x81:
        return { type: "email", value: ascii(n, limits.san.email, "rfc822Name", what) };
      case 0x82:
        return { type: "dns", value: ascii(n, limits.san.dns, "dNSName", what) };
      case 0x86:
        return { type: "uri", value: ascii(n, limits.san.uri, "uniformResourceIdentifier", what) };
      case 0x87: {
        const octets = value(n);
        if (octets.length !== 4 && octets.length !== 16)
          throw malformed(what, "iPAddress is not 4 or 16 octets");
        return { type: "ip", value: formatIp(octets) };
      }
      case 0xa0:
        return decodeOtherName(n, what);
      default:
        throw new KeyfleetError(
          "profile-violation",
          `${what}: ${unsupportedNames[n.tag] ?? `GeneralName tag 0x${n.tag.toString(16)}`} names are not issued`,
        );
    }
  });
}

function decodeOtherName(n: Tlv, what: string): SanEntry {
  const [typeId, wrapped, ...extra] = children(n, what);
  if (!typeId || !wrapped || extra.length) throw malformed(what, "bad otherName");
  const typeOid = readOid(typeId, what);
  if (typeOid !== oids.hardwareModuleName) {
    throw new KeyfleetError("profile-violation", `${what}: otherName ${quoted(typeOid)} is not issued`);
  }
  const inner = children(expect(wrapped, 0xa0, what), what);
  const hmn = inner.length === 1 ? children(expect(inner[0]!, tag.sequence, what), what) : [];
  if (hmn.length !== 2) throw malformed(what, "bad hardwareModuleName");
  const hwType = readOid(hmn[0]!, what);
  const serial = readOctetString(hmn[1]!, what);
  if (serial.length > limits.san.hwSerialNum) {
    throw malformed(what, `a hwSerialNum longer than ${limits.san.hwSerialNum} octets`);
  }
  return {
    type: "hardwareModuleName",
    hwType,
    hwSerialNum: Buffer.from(serial).toString("hex").toUpperCase(),
  };
}
