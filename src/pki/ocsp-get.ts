/**
 * The OCSP GET form (RFC 6960 App. A.1, RFC 5019 §5): `{url}/{url-encoding of base-64 encoding of
 * the DER OCSPRequest}`. Clients and proxies differ in what they do to that path, so decoding is
 * tolerant of each variant seen in practice: percent-encoding (or none), a `+` turned into a space
 * by a form decoder, base64url (`-`, `_`), missing `=` padding, and `/` left unencoded (the path
 * then has several segments). Anything else in the path is `malformed-request`.
 */
import { KeyfleetError } from "../domain/index.js";
import { limits } from "./limits.js";

/** Percent-encoded base64 of the largest request, each octet as `%XX`: longer paths are refused unread. */
const maxPathCharacters = Math.ceil(limits.ocspRequestOctets / 3) * 4 * 3;

/** The DER of the request in `encoded`: everything after `/ocsp/`, without the query string. */
export function decodeOcspGetPath(encoded: string): Uint8Array {
  if (encoded.length > maxPathCharacters) {
    throw new KeyfleetError("malformed-request", `the OCSP GET path is ${encoded.length} characters long`);
  }
  let text: string;
  try {
    text = decodeURIComponent(encoded);
  } catch {
    throw new KeyfleetError("malformed-request", "the OCSP GET path is not valid percent-encoding");
  }
  const base64 = text.replace(/ /g, "+").replace(/-/g, "+").replace(/_/g, "/").replace(/=+$/, "");
  if (base64.length === 0 || !/^[A-Za-z0-9+/]+$/.test(base64) || base64.length % 4 === 1) {
    throw new KeyfleetError("malformed-request", "the OCSP GET path is not the base64 of a request");
  }
  return new Uint8Array(Buffer.from(base64, "base64"));
}
