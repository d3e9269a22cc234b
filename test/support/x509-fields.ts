/**
 * A certificate read for conformance tests, field by field with its exact bytes: a strict DER TLV
 * reader (ITU-T X.690 §10) written apart from the code under test (src/pki/der-reader.ts), because
 * ASN.1 libraries re-encode what they parse and forgive what DER forbids, and the rules under test
 * are about the bytes (issuer = CA subject byte for byte, which string type, no DEFAULT encoded).
 */

export interface Tlv {
  readonly tag: number;
  readonly bytes: Uint8Array;
  readonly start: number;
  readonly valueStart: number;
  readonly end: number;
}

export const content = (t: Tlv): Uint8Array => t.bytes.subarray(t.valueStart, t.end);
export const encoding = (t: Tlv): Uint8Array => t.bytes.subarray(t.start, t.end);
export const hex = (b: Uint8Array): string => Buffer.from(b).toString("hex");

/** One TLV at `start`, ending by `limit`: low tag numbers, definite minimal lengths (X.690 §10.1). */
export function readTlv(bytes: Uint8Array, start: number, limit: number): Tlv {
  const fail = (why: string): never => {
    throw new Error(`DER at offset ${start}: ${why}`);
  };
  if (start + 2 > limit) fail("truncated");
  const tag = bytes[start]!;
  if ((tag & 0x1f) === 0x1f) fail("high tag number");
  let length = bytes[start + 1]!;
  let valueStart = start + 2;
  if (length & 0x80) {
    const count = length & 0x7f;
    if (count === 0) fail("indefinite length");
    if (count > 4 || valueStart + count > limit) fail("bad length");
    if (bytes[valueStart] === 0) fail("length with a leading zero octet");
    length = 0;
    for (let i = 0; i < count; i++) length = length * 256 + bytes[valueStart + i]!;
    if (length < 0x80) fail("long-form length below 128");
    valueStart += count;
  }
  if (valueStart + length > limit) fail("truncated value");
  return { tag, bytes, start, valueStart, end: valueStart + length };
}

/** The single TLV that is all of `bytes` (nothing after it). */
export function only(bytes: Uint8Array): Tlv {
  const t = readTlv(bytes, 0, bytes.length);
  if (t.end !== bytes.length) throw new Error(`DER: ${bytes.length - t.end} octets after the value`);
  return t;
}

export function children(t: Tlv): Tlv[] {
  if (!(t.tag & 0x20)) throw new Error(`DER: tag 0x${t.tag.toString(16)} is not constructed`);
  const out: Tlv[] = [];
  for (let at = t.valueStart; at < t.end;) {
    const child = readTlv(t.bytes, at, t.end);
    out.push(child);
    at = child.end;
  }
  return out;
}

/** OBJECT IDENTIFIER contents as dotted decimal (X.690 §8.19). */
export function decodeOid(value: Uint8Array): string {
  const arcs: number[] = [];
  let n = 0;
  for (const b of value) {
    n = n * 128 + (b & 0x7f);
    if (!(b & 0x80)) {
      arcs.push(n);
      n = 0;
    }
  }
  const first = arcs.shift()!;
  const head = first < 40 ? [0, first] : first < 80 ? [1, first - 40] : [2, first - 80];
  return [...head, ...arcs].join(".");
}

export const oidOf = (t: Tlv): string => {
  if (t.tag !== 0x06) throw new Error(`expected an OBJECT IDENTIFIER, got tag 0x${t.tag.toString(16)}`);
  return decodeOid(content(t));
};

/**
 * What in `bytes` is not DER, walking every constructed value: lengths (by readTlv), BOOLEAN as
 * 00 or FF (X.690 §11.1), INTEGERs minimal (§8.3.2), BIT STRING unused bits 0–7 and zero (§11.2.1).
 * Primitive OCTET and BIT STRINGs are not entered: their contents are checked where they are DER.
 */
export function derProblems(bytes: Uint8Array): string[] {
  const problems: string[] = [];
  const walk = (t: Tlv): void => {
    const c = content(t);
    if (t.tag === 0x01 && !(c.length === 1 && (c[0] === 0x00 || c[0] === 0xff))) {
      problems.push(`BOOLEAN at ${t.start} is not 00 or FF`);
    }
    if (t.tag === 0x02) {
      if (c.length === 0) problems.push(`empty INTEGER at ${t.start}`);
      else if (c.length > 1 && ((c[0] === 0 && !(c[1]! & 0x80)) || (c[0] === 0xff && c[1]! & 0x80))) {
        problems.push(`INTEGER at ${t.start} is not minimal`);
      }
    }
    if (t.tag === 0x03) {
      const unused = c[0] ?? 8;
      if (unused > 7 || (unused > 0 && c.length === 1))
        problems.push(`BIT STRING at ${t.start}: bad unused bits`);
      else if (unused && c[c.length - 1]! & ((1 << unused) - 1)) {
        problems.push(`BIT STRING at ${t.start}: unused bits not zero`);
      }
    }
    if (t.tag & 0x20) children(t).forEach(walk);
  };
  try {
    walk(only(bytes));
  } catch (e) {
    problems.push((e as Error).message);
  }
  return problems;
}

export interface ExtensionField {
  readonly oid: string;
  /** The encoded `critical` BOOLEAN, when one is there (DER omits the DEFAULT FALSE). */
  readonly critical: Tlv | undefined;
  /** extnValue's contents: the DER of the extension's own value. */
  readonly value: Uint8Array;
}

export interface CertificateFields {
  readonly certificate: Tlv;
  readonly tbs: Tlv;
  /** [0] EXPLICIT version, if encoded. */
  readonly version: Tlv | undefined;
  readonly serial: Tlv;
  readonly signature: Tlv;
  readonly issuer: Tlv;
  readonly notBefore: Tlv;
  readonly notAfter: Tlv;
  readonly subject: Tlv;
  readonly spki: Tlv;
  /** Tags after the SPKI, in order ([1], [2] unique IDs; [3] extensions). */
  readonly trailingTags: readonly number[];
  readonly extensions: readonly ExtensionField[];
  readonly signatureAlgorithm: Tlv;
  readonly signatureValue: Tlv;
}

/** The fields of Certificate and TBSCertificate (RFC 5280 §4.1), by position. */
export function certificateFields(der: Uint8Array): CertificateFields {
  const certificate = only(der);
  const [tbs, signatureAlgorithm, signatureValue, ...more] = children(certificate);
  if (!tbs || !signatureAlgorithm || !signatureValue || more.length) throw new Error("not three fields");
  const fields = children(tbs);
  const version = fields[0]?.tag === 0xa0 ? fields.shift() : undefined;
  const [serial, signature, issuer, validity, subject, spki, ...trailing] = fields;
  if (!spki) throw new Error("the tbsCertificate is missing fields");
  const [notBefore, notAfter, ...extraTimes] = children(validity!);
  if (!notBefore || !notAfter || extraTimes.length) throw new Error("validity is not two times");
  const extensionsTlv = trailing.find((t) => t.tag === 0xa3);
  const extensions = extensionsTlv ? children(only(content(extensionsTlv))).map(extensionField) : [];
  return {
    certificate,
    tbs,
    version,
    serial: serial!,
    signature: signature!,
    issuer: issuer!,
    notBefore,
    notAfter,
    subject: subject!,
    spki,
    trailingTags: trailing.map((t) => t.tag),
    extensions,
    signatureAlgorithm,
    signatureValue,
  };
}

function extensionField(t: Tlv): ExtensionField {
  const parts = children(t);
  const [id, second, third, ...more] = parts;
  if (!id || !second || more.length) throw new Error("an Extension has two or three fields");
  const critical = third ? second : undefined;
  const value = third ?? second;
  if (value.tag !== 0x04) throw new Error("extnValue is not an OCTET STRING");
  return { oid: oidOf(id), critical, value: content(value) };
}

export interface NameAttribute {
  readonly oid: string;
  /** The string type's tag: 0x0c UTF8String, 0x13 PrintableString, 0x16 IA5String… */
  readonly stringTag: number;
  readonly value: string;
}

/** A Name's RDNs, each the list of its attributes. */
export function nameAttributes(name: Tlv): NameAttribute[][] {
  return children(name).map((rdn) =>
    children(rdn).map((atv) => {
      const [type, value] = children(atv);
      return {
        oid: oidOf(type!),
        stringTag: value!.tag,
        value: Buffer.from(content(value!)).toString("utf8"),
      };
    }),
  );
}

/** A Time (RFC 5280 §4.1.2.5) as its tag, its text and the instant it names. */
export function timeOf(t: Tlv): { tag: number; text: string; date: Date } {
  const text = Buffer.from(content(t)).toString("latin1");
  const m = /^(\d{2}|\d{4})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})Z$/.exec(text);
  if (!m) return { tag: t.tag, text, date: new Date(NaN) };
  const y = Number(m[1]);
  const year = m[1]!.length === 4 ? y : y < 50 ? 2000 + y : 1900 + y; // RFC 5280 §4.1.2.5.1
  const [mo, d, h, mi, s] = m.slice(2).map(Number) as [number, number, number, number, number];
  return { tag: t.tag, text, date: new Date(Date.UTC(year, mo - 1, d, h, mi, s)) };
}

const ipText = (b: Uint8Array): string =>
  b.length === 4
    ? [...b].join(".")
    : Array.from({ length: b.length / 2 }, (_, i) => hex(b.subarray(2 * i, 2 * i + 2))).join(":");

/**
 * GeneralNames as text: "URI:…", "DNS:…", "IP:…" (IPv6 as eight four-digit groups), and the RFC 4108
 * hardwareModuleName otherName as "HMN:<hwType>:<hwSerialNum hex>"; any other form by its tag.
 */
export function generalNames(value: Uint8Array): string[] {
  return children(only(value)).map((g) => {
    const c = content(g);
    switch (g.tag) {
      case 0x82:
        return `DNS:${Buffer.from(c).toString("latin1")}`;
      case 0x86:
        return `URI:${Buffer.from(c).toString("latin1")}`;
      case 0x87:
        return c.length === 4 || c.length === 16 ? `IP:${ipText(c)}` : `IP:bad length ${c.length}`;
      case 0xa0: {
        const [typeId, explicitValue] = children(g);
        const [hmn] = children(explicitValue!);
        const [hwType, hwSerialNum] = children(hmn!);
        return `otherName:${oidOf(typeId!)}:${oidOf(hwType!)}:${hex(content(hwSerialNum!))}`;
      }
      default:
        return `tag 0x${g.tag.toString(16)}`;
    }
  });
}
