/**
 * ECDSA signature encodings. A PKCS#11 token (CKM_ECDSA, PKCS#11 v2.40 §2.3.1) and WebCrypto answer
 * with the raw concatenation r ‖ s, each as long as the curve order; X.509, CMS and TLS carry the
 * DER Ecdsa-Sig-Value (RFC 5480 §2.2, RFC 3279 §2.2.3): SEQUENCE { r INTEGER, s INTEGER }.
 */
import { KeyfleetError } from "../domain/index.js";

/** A minimal positive DER INTEGER of an unsigned big-endian magnitude (X.690 §8.3). */
function integer(magnitude: Uint8Array): Uint8Array {
  let start = 0;
  while (start < magnitude.length - 1 && magnitude[start] === 0) start++;
  const m = magnitude.subarray(start);
  const pad = m[0]! & 0x80 ? 1 : 0;
  return Uint8Array.from([0x02, ...length(m.length + pad), ...(pad ? [0] : []), ...m]);
}

function length(n: number): number[] {
  if (n < 0x80) return [n];
  const bytes: number[] = [];
  for (let v = n; v > 0; v = Math.floor(v / 256)) bytes.unshift(v & 0xff);
  return [0x80 | bytes.length, ...bytes];
}

/** Raw r ‖ s (two halves of equal length) to the DER Ecdsa-Sig-Value. */
export function ecdsaRawToDer(raw: Uint8Array): Uint8Array {
  if (raw.length === 0 || raw.length % 2 !== 0 || raw.length > 264) {
    throw new KeyfleetError("internal", `an ECDSA signature r ‖ s of ${raw.length} octets is not two halves`);
  }
  const half = raw.length / 2;
  const r = integer(raw.subarray(0, half));
  const s = integer(raw.subarray(half));
  return Uint8Array.from([0x30, ...length(r.length + s.length), ...r, ...s]);
}
