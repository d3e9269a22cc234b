/**
 * A small, strict DER reader (ITU-T X.690 §10) for the request hot path: CSR envelopes, public keys,
 * extension values. Strict means: definite minimal lengths, low tag numbers only, no trailing bytes,
 * DER-only BOOLEAN and BIT STRING forms. Every failure is a `malformed-request` naming the field,
 * so a client learns what is wrong with its request, and a parse failure is never a 500.
 */
import { KeyfleetError, quoted } from "../domain/index.js";
import { tag } from "./der.js";
import { limits } from "./limits.js";

/** One element: `bytes[start, end)` is the whole TLV, `bytes[valueStart, end)` its contents. */
export interface Tlv {
  readonly tag: number;
  readonly bytes: Uint8Array;
  readonly start: number;
  readonly valueStart: number;
  readonly end: number;
}

export function malformed(what: string, problem: string): KeyfleetError {
  return new KeyfleetError("malformed-request", `${what}: ${problem}`);
}

/** Reads the TLV at `offset`, which must end at or before `limit`. */
export function readTlv(bytes: Uint8Array, offset: number, limit: number, what: string): Tlv {
  if (offset >= limit) throw malformed(what, "truncated (no tag)");
  const tagByte = bytes[offset]!;
  if ((tagByte & 0x1f) === 0x1f) throw malformed(what, "high tag numbers are not used in X.509");
  if (offset + 1 >= limit) throw malformed(what, "truncated (no length)");
  let length = bytes[offset + 1]!;
  let valueStart = offset + 2;
  if (length & 0x80) {
    const count = length & 0x7f;
    if (count === 0) throw malformed(what, "indefinite length is not DER");
    if (count > 4) throw malformed(what, "length too large");
    if (valueStart + count > limit) throw malformed(what, "truncated (length)");
    if (bytes[valueStart] === 0) throw malformed(what, "length is not minimally encoded");
    length = 0;
    for (let i = 0; i < count; i++) length = length * 256 + bytes[valueStart + i]!;
    if (length < 0x80) throw malformed(what, "length is not minimally encoded");
    valueStart += count;
  }
  const end = valueStart + length;
  if (end > limit) throw malformed(what, `truncated (needs ${end - limit} more bytes)`);
  return { tag: tagByte, bytes, start: offset, valueStart, end };
}

/** The whole input as exactly one TLV of `expectedTag`: trailing bytes are an error. */
export function readOnly(bytes: Uint8Array, expectedTag: number, what: string): Tlv {
  const t = readTlv(bytes, 0, bytes.length, what);
  if (t.end !== bytes.length) throw malformed(what, `${bytes.length - t.end} trailing bytes after the DER`);
  return expect(t, expectedTag, what);
}

export function expect(t: Tlv, expectedTag: number, what: string): Tlv {
  if (t.tag !== expectedTag) {
    throw malformed(what, `expected tag 0x${hex2(expectedTag)}, found 0x${hex2(t.tag)}`);
  }
  return t;
}

const hex2 = (n: number): string => n.toString(16).padStart(2, "0");

/** The elements inside a constructed TLV, each checked to fit exactly. */
export function children(t: Tlv, what: string): Tlv[] {
  if (!(t.tag & 0x20)) throw malformed(what, "expected a constructed element");
  const out: Tlv[] = [];
  for (let offset = t.valueStart; offset < t.end;) {
    const child = readTlv(t.bytes, offset, t.end, what);
    out.push(child);
    offset = child.end;
  }
  return out;
}

/**
 * The elements inside a constructed TLV, at most `max` of them: counted as they are read, so a
 * SEQUENCE OF with thousands of entries is refused after `max + 1` and not read to its end.
 */
export function boundedChildren(t: Tlv, max: number, noun: string, what: string): Tlv[] {
  if (!(t.tag & 0x20)) throw malformed(what, "expected a constructed element");
  const out: Tlv[] = [];
  for (let offset = t.valueStart; offset < t.end;) {
    if (out.length === max) throw malformed(what, `more than ${max} ${noun}`);
    const child = readTlv(t.bytes, offset, t.end, what);
    out.push(child);
    offset = child.end;
  }
  return out;
}

/** The single element inside an EXPLICIT tag (or a one-element SET). */
export function only(t: Tlv, what: string): Tlv {
  const inner = children(t, what);
  if (inner.length !== 1) throw malformed(what, `expected one element, found ${inner.length}`);
  return inner[0]!;
}

export const value = (t: Tlv): Uint8Array => t.bytes.subarray(t.valueStart, t.end);
export const raw = (t: Tlv): Uint8Array => t.bytes.subarray(t.start, t.end);

/** OBJECT IDENTIFIER (X.690 §8.19) as dotted text; length and arcs bounded (limits.ts) before any arithmetic. */
export function readOid(t: Tlv, what: string): string {
  const v = value(expect(t, tag.oid, what));
  if (v.length === 0) throw malformed(what, "empty OBJECT IDENTIFIER");
  if (v.length > limits.oidOctets) {
    throw malformed(what, `OBJECT IDENTIFIER of ${v.length} octets (at most ${limits.oidOctets} are read)`);
  }
  if (v[v.length - 1]! & 0x80) throw malformed(what, "OBJECT IDENTIFIER is truncated");
  const arcs: (number | bigint)[] = [];
  for (let i = 0; i < v.length;) {
    if (v[i] === 0x80) throw malformed(what, "OBJECT IDENTIFIER arc is not minimally encoded");
    let end = i;
    while (v[end]! & 0x80) end++;
    if (end - i + 1 > limits.oidArcOctets) {
      throw malformed(
        what,
        `OBJECT IDENTIFIER arc of ${end - i + 1} octets (at most ${limits.oidArcOctets})`,
      );
    }
    arcs.push(end - i < 7 ? arcNumber(v, i, end) : arcBigInt(v, i, end)); // 7 × 7 bits stays a safe integer
    i = end + 1;
  }
  const first = arcs[0]!;
  const head =
    first < 40
      ? [0, first]
      : first < 80
        ? [1, Number(first) - 40]
        : [2, typeof first === "bigint" ? first - 80n : first - 80];
  return [...head, ...arcs.slice(1)].join(".");
}

function arcNumber(v: Uint8Array, start: number, last: number): number {
  let arc = 0;
  for (let i = start; i <= last; i++) arc = arc * 128 + (v[i]! & 0x7f);
  return arc;
}

function arcBigInt(v: Uint8Array, start: number, last: number): bigint {
  let arc = 0n;
  for (let i = start; i <= last; i++) arc = (arc << 7n) | BigInt(v[i]! & 0x7f);
  return arc;
}

/** BOOLEAN: X.690 §11.1, only 0x00 and 0xFF. */
export function readBoolean(t: Tlv, what: string): boolean {
  expect(t, tag.boolean, what);
  const v = value(t);
  if (v.length !== 1 || (v[0] !== 0 && v[0] !== 0xff)) throw malformed(what, "BOOLEAN is not DER");
  return v[0] === 0xff;
}

/** A non-negative INTEGER small enough for a JS number (versions, pathLen). */
export function readSmallInteger(t: Tlv, what: string): number {
  const v = readIntegerMagnitude(t, what);
  if (v.length > 6) throw malformed(what, "INTEGER too large");
  return v.reduce((n, b) => n * 256 + b, 0);
}

/** The magnitude of a non-negative INTEGER (leading 0x00 removed), checked minimal (X.690 §8.3.2). */
export function readIntegerMagnitude(t: Tlv, what: string): Uint8Array {
  const v = value(expect(t, tag.integer, what));
  if (v.length === 0) throw malformed(what, "empty INTEGER");
  if (v.length > 1 && ((v[0] === 0 && !(v[1]! & 0x80)) || (v[0] === 0xff && v[1]! & 0x80))) {
    throw malformed(what, "INTEGER is not minimally encoded");
  }
  if (v[0]! & 0x80) throw malformed(what, "INTEGER is negative");
  return v[0] === 0 && v.length > 1 ? v.subarray(1) : v;
}

/** BIT STRING contents; X.690 §11.2: the unused bits are zero, and none when empty. */
export function readBitString(
  t: Tlv,
  what: string,
): { readonly unusedBits: number; readonly bytes: Uint8Array } {
  const v = value(expect(t, tag.bitString, what));
  if (v.length === 0) throw malformed(what, "BIT STRING has no unused-bits octet");
  const unusedBits = v[0]!;
  if (unusedBits > 7 || (v.length === 1 && unusedBits !== 0)) throw malformed(what, "bad BIT STRING padding");
  if (v.length > 1 && v[v.length - 1]! & ((1 << unusedBits) - 1)) {
    throw malformed(what, "BIT STRING unused bits are not zero");
  }
  return { unusedBits, bytes: v.subarray(1) };
}

/** Named bit `n` of a BIT STRING: bit 0 is the first octet's most significant (X.690 §8.6.2); absent bits are 0. */
export function namedBit(bits: { readonly bytes: Uint8Array }, n: number): boolean {
  return ((bits.bytes[n >> 3] ?? 0) & (0x80 >> (n & 7))) !== 0;
}

export function readOctetString(t: Tlv, what: string): Uint8Array {
  return value(expect(t, tag.octetString, what));
}

export interface Extension {
  readonly oid: string;
  readonly critical: boolean;
  /** The extnValue OCTET STRING's contents: the extension's own DER. */
  readonly value: Uint8Array;
}

/** Extension ::= SEQUENCE { extnID OID, critical BOOLEAN DEFAULT FALSE, extnValue OCTET STRING } (RFC 5280 §4.1). */
export function readExtension(t: Tlv, what: string): Extension {
  const fields = children(expect(t, tag.sequence, what), what);
  if (fields.length < 2 || fields.length > 3) throw malformed(what, "Extension has the wrong shape");
  const id = readOid(fields[0]!, what);
  // DER omits a FALSE critical (the DEFAULT); an explicit FALSE means the same and is accepted.
  const critical = fields.length === 3 ? readBoolean(fields[1]!, what) : false;
  return { oid: id, critical, value: readOctetString(fields[fields.length - 1]!, `${what} ${quoted(id)}`) };
}

/** Extensions ::= SEQUENCE OF Extension, by extnID; RFC 5280 §4.2: no extension appears twice. */
export function readExtensions(t: Tlv, what: string): ReadonlyMap<string, Extension> {
  const out = new Map<string, Extension>();
  for (const child of boundedChildren(expect(t, tag.sequence, what), limits.extensions, "extensions", what)) {
    const ext = readExtension(child, what);
    if (out.has(ext.oid)) throw malformed(what, `extension ${quoted(ext.oid)} appears twice (RFC 5280 §4.2)`);
    out.set(ext.oid, ext);
  }
  return out;
}

const utf8 = new TextDecoder("utf-8", { fatal: true });
const utf16be = new TextDecoder("utf-16be", { fatal: true });
const latin1 = new TextDecoder("latin1");

/** A character string of any X.509 DirectoryString/IA5 type, as a JS string. */
export function readString(t: Tlv, what: string): string {
  const v = value(t);
  try {
    switch (t.tag) {
      case tag.utf8String:
        return utf8.decode(v);
      case tag.printableString:
      case tag.ia5String:
        if (v.some((b) => b > 0x7f)) throw malformed(what, "non-ASCII bytes in an ASCII string");
        return latin1.decode(v);
      case tag.teletexString:
        return latin1.decode(v); // T.61 in practice carries Latin-1 (RFC 5280 §4.1.2.4 discourages it)
      case tag.bmpString:
        return utf16be.decode(v);
      case tag.universalString:
        return universalString(v, what);
      default:
        throw malformed(what, `expected a character string, found tag 0x${hex2(t.tag)}`);
    }
  } catch (e) {
    if (e instanceof KeyfleetError) throw e;
    throw malformed(what, "invalid character encoding");
  }
}

function universalString(v: Uint8Array, what: string): string {
  if (v.length % 4 !== 0) throw malformed(what, "UniversalString length is not a multiple of 4");
  let s = "";
  for (let i = 0; i < v.length; i += 4) {
    s += String.fromCodePoint(((v[i]! << 24) | (v[i + 1]! << 16) | (v[i + 2]! << 8) | v[i + 3]!) >>> 0);
  }
  return s;
}

/** UTCTime / GeneralizedTime in the RFC 5280 §4.1.2.5 profile: seconds present, 'Z', no fractions. */
export function readTime(t: Tlv, what: string): Date {
  if (t.end - t.valueStart > limits.timeOctets) throw malformed(what, "not an RFC 5280 time (too long)");
  const s = latin1.decode(value(t));
  const m =
    t.tag === tag.utcTime
      ? /^(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})Z$/.exec(s)
      : t.tag === tag.generalizedTime
        ? /^(\d{4})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})Z$/.exec(s)
        : null;
  if (!m) throw malformed(what, `not an RFC 5280 time: ${quoted(s)}`);
  const [y, mo, d, h, mi, se] = m.slice(1).map(Number) as [number, number, number, number, number, number];
  const year = t.tag === tag.utcTime ? (y >= 50 ? 1900 + y : 2000 + y) : y;
  const date = new Date(Date.UTC(2000, 0, 1, h, mi, se));
  date.setUTCFullYear(year, mo - 1, d); // Date.UTC maps years 0–99 to 1900–1999
  if (date.getUTCMonth() !== mo - 1 || date.getUTCDate() !== d || h > 23 || mi > 59 || se > 59) {
    throw malformed(what, `not a valid date: ${quoted(s)}`);
  }
  return date;
}
