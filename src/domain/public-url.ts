/**
 * The authority's public URL: the base of the CRL distribution point, OCSP and caIssuers URLs every
 * certificate carries (RFC 5280 §4.2.1.13, §4.2.2.1). Relying parties fetch those over plain HTTP
 * or HTTPS, with no credentials, query or fragment; and a certificate carries an IA5String URI
 * (RFC 5280 §4.2.1.6), so the value kept is the parsed URL's ASCII form, never the text as typed.
 */
import { KeyfleetError, quoted } from "./errors.js";

/** The URL in its normalized ASCII form without trailing slashes; anything else is `invalid-configuration`. */
export function checkPublicUrl(url: string): string {
  const refuse = (why: string) =>
    new KeyfleetError("invalid-configuration", `the public URL ${why}: ${quoted(url, 200)}`);
  // As typed: a scheme, "//" and an authority; no spaces, backslashes or bad escapes for URL parsing to mend.
  if (!/^https?:\/\/[^/\\\s]/i.test(url) || /[\s\\]|%(?![0-9A-Fa-f]{2})/.test(url)) {
    throw refuse("must be http(s)://host[:port][/path] with no spaces, backslashes or stray %");
  }
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw refuse("is not a URL");
  }
  if (parsed.username || parsed.password || parsed.href.includes("?") || parsed.href.includes("#")) {
    throw refuse("may not carry credentials, a query or a fragment");
  }
  return parsed.href.replace(/\/+$/, "");
}
