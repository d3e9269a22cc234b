/**
 * Certificate serial numbers (RFC 5280 §4.1.2.2: positive, unique per issuer, at most 20 octets;
 * CA/Browser Forum BR §7.1: at least 64 bits from a CSPRNG).
 *
 * A serial is handled as its unsigned big-endian magnitude, without leading zero octets (the DER
 * writer adds the 0x00 a positive INTEGER needs when the top bit is set). New serials are always
 * 16 octets: 128 random bits with the top bit cleared (positive without a prepended 0x00) and the
 * next bit set (so the first octet is never 0x00 and the length never shrinks): 126 bits of entropy.
 *
 * Text form, in APIs, logs and the database: upper-case hex of the magnitude, two digits per octet,
 * exactly what `openssl x509 -serial` prints after "serial=" (e.g. "5A0F…"; a serial whose top bit
 * is set prints without the DER's leading 00, as openssl does). Read back, the text may also be in
 * the colon form `openssl x509 -text` prints ("5a:0f:…", with "00:" first when the top bit is set).
 */
import { randomFillSync } from "node:crypto";
import { KeyfleetError, quoted } from "../domain/index.js";

const SERIAL_OCTETS = 16;
const MAX_DER_OCTETS = 20;

// CSPRNG output drawn 4 KiB at a time: one call per 256 serials instead of one each (2–6 µs per
// call on this machine, more under load). The bytes become public serial numbers, so holding
// them unused is harmless.
const pool = new Uint8Array(4096);
let poolOffset = pool.length;

function pooledRandom(n: number): Uint8Array {
  if (poolOffset + n > pool.length) {
    randomFillSync(pool);
    poolOffset = 0;
  }
  const out = pool.slice(poolOffset, poolOffset + n);
  poolOffset += n;
  return out;
}

export function newSerial(random: (n: number) => Uint8Array = pooledRandom): Uint8Array {
  const bytes = Uint8Array.from(random(SERIAL_OCTETS)); // a copy: the caller's buffer is not ours to change
  if (bytes.length !== SERIAL_OCTETS) {
    throw new KeyfleetError(
      "internal",
      `the random source returned ${bytes.length} bytes, not ${SERIAL_OCTETS}`,
    );
  }
  bytes[0] = (bytes[0]! & 0x7f) | 0x40;
  return bytes;
}

function stripLeadingZeros(bytes: Uint8Array): Uint8Array {
  let start = 0;
  while (start < bytes.length - 1 && bytes[start] === 0) start++;
  return bytes.subarray(start);
}

export function serialToHex(serial: Uint8Array): string {
  return Buffer.from(stripLeadingZeros(serial)).toString("hex").toUpperCase();
}

const PLAIN_HEX = /^[0-9A-Fa-f]+$/;
// openssl's colon form: two digits per octet, at least two octets (one octet is plain hex).
const COLON_HEX = /^[0-9A-Fa-f]{2}(?::[0-9A-Fa-f]{2})+$/;

/**
 * The serial of a text as openssl prints it: plain hex (`openssl x509 -serial`, "5A0F…") or the
 * colon form (`openssl x509 -text`, "5a:0f:…"), either case, leading zero octets allowed. Anything
 * else, zero, or more than 20 DER octets is `malformed-request`.
 */
export function serialFromHex(text: string): Uint8Array {
  const hex = COLON_HEX.test(text) ? text.replaceAll(":", "") : text;
  if (!PLAIN_HEX.test(hex) || hex.length > 2 * (MAX_DER_OCTETS + 1)) {
    throw new KeyfleetError(
      "malformed-request",
      `${quoted(text)} is not a certificate serial number: give it in hex as openssl prints it ("5A0F…" or "5a:0f:…")`,
    );
  }
  const magnitude = new Uint8Array(stripLeadingZeros(Buffer.from(hex.length % 2 ? `0${hex}` : hex, "hex")));
  const derOctets = magnitude.length + (magnitude[0]! & 0x80 ? 1 : 0);
  if (magnitude.every((b) => b === 0) || derOctets > MAX_DER_OCTETS) {
    throw new KeyfleetError(
      "malformed-request",
      `serial ${hex} is out of range: RFC 5280 §4.1.2.2 wants a positive number of at most 20 octets`,
    );
  }
  return magnitude;
}

/** Whether a serial magnitude may go into a certificate (positive, ≤ 20 DER octets). */
export function isValidSerial(serial: Uint8Array): boolean {
  const magnitude = stripLeadingZeros(serial);
  const derOctets = magnitude.length + (magnitude[0]! & 0x80 ? 1 : 0);
  return serial.length > 0 && magnitude.some((b) => b !== 0) && derOctets <= MAX_DER_OCTETS;
}
