/**
 * A minimal DER writer (ITU-T X.690 §10, §11) for the hot paths: certificate bodies, and later CRLs
 * and OCSP responses. Each function returns the complete TLV; constants are built once by the caller
 * and reused. Only what X.509 needs: low tag numbers, definite lengths, the universal types below.
 */
import { KeyfleetError } from "../domain/index.js";

export const tag = {
  boolean: 0x01,
  integer: 0x02,
  bitString: 0x03,
  octetString: 0x04,
  null: 0x05,
  oid: 0x06,
  utf8String: 0x0c,
  printableString: 0x13,
  teletexString: 0x14,
  ia5String: 0x16,
  utcTime: 0x17,
  generalizedTime: 0x18,
  universalString: 0x1c,
  bmpString: 0x1e,
  sequence: 0x30,
  set: 0x31,
} as const;

function lengthSize(n: number): number {
  return n < 0x80 ? 1 : n < 0x100 ? 2 : n < 0x10000 ? 3 : n < 0x1000000 ? 4 : 5;
}

/** The tag and length octets of a TLV whose value is `length` octets: for a writer that puts the value in place itself. */
export function tlvHeader(tagByte: number, length: number): Uint8Array {
  const size = lengthSize(length);
  const out = new Uint8Array(1 + size);
  out[0] = tagByte;
  if (size === 1) out[1] = length;
  else {
    out[1] = 0x80 | (size - 1);
    for (let i = size - 1, n = length; i >= 1; i--, n = Math.floor(n / 256)) out[1 + i] = n & 0xff;
  }
  return out;
}

/** One TLV whose value is the concatenation of `contents` (X.690 §10.1: definite, minimal length). */
export function tlv(tagByte: number, ...contents: readonly Uint8Array[]): Uint8Array {
  let length = 0;
  for (const c of contents) length += c.length;
  const head = tlvHeader(tagByte, length);
  const out = new Uint8Array(head.length + length);
  out.set(head);
  let offset = head.length;
  for (const c of contents) {
    out.set(c, offset);
    offset += c.length;
  }
  return out;
}

export function concat(parts: readonly Uint8Array[]): Uint8Array {
  let length = 0;
  for (const p of parts) length += p.length;
  const out = new Uint8Array(length);
  let offset = 0;
  for (const p of parts) {
    out.set(p, offset);
    offset += p.length;
  }
  return out;
}

export const sequence = (...items: readonly Uint8Array[]): Uint8Array => tlv(tag.sequence, ...items);

/** SET OF: X.690 §11.6 wants the elements in ascending order of their encodings. */
export function set(...items: readonly Uint8Array[]): Uint8Array {
  return tlv(tag.set, ...[...items].sort(compareBytes));
}

export function compareBytes(a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return a[i]! - b[i]!;
  return a.length - b.length;
}

/**
 * INTEGER from an unsigned big-endian magnitude: leading zero octets dropped, one 0x00 prepended
 * when the top bit is set, so the value stays positive (X.690 §8.3.2 minimal two's complement).
 */
export function integer(unsigned: Uint8Array): Uint8Array {
  let start = 0;
  while (start < unsigned.length - 1 && unsigned[start] === 0) start++;
  const magnitude = unsigned.length === 0 ? Uint8Array.of(0) : unsigned.subarray(start);
  return magnitude[0]! & 0x80 ? tlv(tag.integer, Uint8Array.of(0), magnitude) : tlv(tag.integer, magnitude);
}

/** INTEGER for small non-negative numbers (version, pathLenConstraint). */
export function smallInteger(n: number): Uint8Array {
  if (!Number.isSafeInteger(n) || n < 0) throw new KeyfleetError("internal", `not a small integer: ${n}`);
  const bytes: number[] = [];
  for (let v = n; v > 0; v = Math.floor(v / 256)) bytes.unshift(v & 0xff);
  return integer(Uint8Array.from(bytes));
}

const oidCache = new Map<string, Uint8Array>();
// Bounded: some OIDs come from requests (hwType), and a cache must not grow with what callers send.
const OID_CACHE_LIMIT = 1024;

/** OBJECT IDENTIFIER (X.690 §8.19), cached: the same few OIDs are written for every certificate. */
export function oid(dotted: string): Uint8Array {
  let encoded = oidCache.get(dotted);
  if (!encoded) {
    encoded = tlv(tag.oid, oidContent(dotted));
    if (oidCache.size < OID_CACHE_LIMIT) oidCache.set(dotted, encoded);
  }
  return encoded;
}

function oidContent(dotted: string): Uint8Array {
  if (!/^[0-2](\.(0|[1-9]\d*))+$/.test(dotted))
    throw new KeyfleetError("internal", `not an OID: "${dotted}"`);
  const arcs = dotted.split(".").map(BigInt);
  const [first, second, ...rest] = arcs as [bigint, bigint, ...bigint[]];
  if (first < 2n && second > 39n) throw new KeyfleetError("internal", `not an OID: "${dotted}"`);
  const out: number[] = [];
  for (const arc of [first * 40n + second, ...rest]) {
    const base128: number[] = [Number(arc & 0x7fn)];
    for (let v = arc >> 7n; v > 0n; v >>= 7n) base128.unshift(Number(v & 0x7fn) | 0x80);
    out.push(...base128);
  }
  return Uint8Array.from(out);
}

const textEncoder = new TextEncoder();
const PRINTABLE = /^[A-Za-z0-9 '()+,\-./:=?]*$/; // X.680 §41.4 Table 10

export function utf8String(s: string): Uint8Array {
  return tlv(tag.utf8String, textEncoder.encode(s));
}

export function printableString(s: string): Uint8Array {
  if (!PRINTABLE.test(s)) throw new KeyfleetError("internal", `not a PrintableString: ${JSON.stringify(s)}`);
  return tlv(tag.printableString, ia5Bytes(s));
}

export function isPrintableString(s: string): boolean {
  return PRINTABLE.test(s);
}

export function ia5String(s: string): Uint8Array {
  return tlv(tag.ia5String, ia5Bytes(s));
}

/** IA5 (ASCII) bytes, for IA5String and for IMPLICIT-tagged IA5 fields (dNSName, URI, rfc822Name). */
export function ia5Bytes(s: string): Uint8Array {
  const out = new Uint8Array(s.length); // one octet per character: cheaper than TextEncoder for short ASCII
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c > 0x7f) throw new KeyfleetError("internal", `not an IA5String: ${JSON.stringify(s)}`);
    out[i] = c;
  }
  return out;
}

export function bitString(bytes: Uint8Array, unusedBits = 0): Uint8Array {
  return tlv(tag.bitString, Uint8Array.of(unusedBits), bytes);
}

export function octetString(bytes: Uint8Array): Uint8Array {
  return tlv(tag.octetString, bytes);
}

/** BOOLEAN: DER allows only 0x00 and 0xFF (X.690 §11.1). */
export function boolean(value: boolean): Uint8Array {
  return Uint8Array.of(tag.boolean, 1, value ? 0xff : 0x00);
}

export const derNull: Uint8Array = Uint8Array.of(tag.null, 0);

/** [n] EXPLICIT: a constructed context tag around a complete TLV. */
export function explicit(n: number, ...encoded: readonly Uint8Array[]): Uint8Array {
  return tlv(0xa0 | n, ...encoded);
}

/** [n] IMPLICIT: the TLV's own tag replaced by the context tag, keeping its constructed bit. */
export function implicit(n: number, encoded: Uint8Array): Uint8Array {
  const out = encoded.slice();
  out[0] = 0x80 | (encoded[0]! & 0x20) | n;
  return out;
}

/** [n] IMPLICIT of a primitive value given as its content octets (dNSName, URI, iPAddress…). */
export function contextPrimitive(n: number, content: Uint8Array): Uint8Array {
  return tlv(0x80 | n, content);
}

/**
 * Time (RFC 5280 §4.1.2.5): UTCTime for 1950–2049, GeneralizedTime otherwise; whole seconds
 * (milliseconds dropped, §4.1.2.5.2 forbids fractions) and always 'Z'.
 */
export function time(date: Date): Uint8Array {
  return timeOf(date, "either");
}

/** GeneralizedTime whatever the year (RFC 5280 §5.3.2 invalidityDate), whole seconds, 'Z'. */
export function generalizedTime(date: Date): Uint8Array {
  return timeOf(date, "generalized");
}

function timeOf(date: Date, form: "either" | "generalized"): Uint8Array {
  const ms = date.getTime();
  if (!Number.isFinite(ms)) throw new KeyfleetError("internal", "invalid date");
  const d = new Date(Math.floor(ms / 1000) * 1000);
  const year = d.getUTCFullYear();
  if (year < 0 || year > 9999) throw new KeyfleetError("internal", `year ${year} cannot be encoded`);
  const utc = form === "either" && year >= 1950 && year <= 2049;
  const fields = [d.getUTCMonth() + 1, d.getUTCDate(), d.getUTCHours(), d.getUTCMinutes(), d.getUTCSeconds()];
  const digits = utc ? [year % 100, ...fields] : [Math.floor(year / 100), year % 100, ...fields];
  const out = new Uint8Array(2 + 2 * digits.length + 1);
  out[0] = utc ? tag.utcTime : tag.generalizedTime;
  out[1] = out.length - 2;
  digits.forEach((n, i) => {
    out[2 + 2 * i] = 0x30 + Math.floor(n / 10);
    out[3 + 2 * i] = 0x30 + (n % 10);
  });
  out[out.length - 1] = 0x5a; // 'Z'
  return out;
}
