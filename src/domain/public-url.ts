/**
 * The authority's public URL: the base of the CRL distribution point, OCSP and caIssuers URLs every
 * certificate carries (RFC 5280 §4.2.1.13, §4.2.2.1). Relying parties fetch those over plain HTTP
 * or HTTPS, with no credentials and no query, so that is all a public URL may be.
 */
import { KeyfleetError, quoted } from "./errors.js";

/** The URL, checked and without trailing slashes; anything else is `invalid-configuration`. */
export function checkPublicUrl(url: string): string {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new KeyfleetError("invalid-configuration", `the public URL is not a URL: ${quoted(url, 200)}`);
  }
  if (parsed.protocol !== "http:" && parsed.protocol !== "https:") {
    throw new KeyfleetError(
      "invalid-configuration",
      `the public URL must be http(s), got ${quoted(url, 200)}`,
    );
  }
  if (parsed.username || parsed.password || parsed.search || parsed.hash) {
    throw new KeyfleetError(
      "invalid-configuration",
      `the public URL may not carry credentials, a query or a fragment: ${quoted(url, 200)}`,
    );
  }
  return url.replace(/\/+$/, "");
}
