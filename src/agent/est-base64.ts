/**
 * The base64 of EST bodies (RFC 7030 §4 as clarified by RFC 8951 §3): a CSR goes out as base64 of
 * its DER; an answer comes back as base64 with or without line breaks, whatever its
 * Content-Transfer-Encoding header says (RFC 8951 §3: the header is ignored). Whitespace is
 * skipped; any other non-alphabet character is an error, never silently dropped.
 */
import { KeyfleetError } from "../domain/index.js";

const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

export function encodeEstBase64(der: Uint8Array): string {
  return Buffer.from(der.buffer, der.byteOffset, der.byteLength).toString("base64");
}

export function decodeEstBase64(body: string, what: string): Uint8Array {
  const compact = body.replace(/[ \t\r\n]/g, "");
  if (compact.length === 0 || !BASE64.test(compact)) {
    throw new KeyfleetError("malformed-request", `${what} is not base64 (RFC 8951 §3)`);
  }
  return new Uint8Array(Buffer.from(compact, "base64"));
}
