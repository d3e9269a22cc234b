/**
 * The CRL bundle a TLS server reads as one file (Mosquitto's `crlfile`, nginx's `ssl_crl`): the
 * current full CRL of every CA, PEM blocks one after another. Mosquitto loads every CRL in the file
 * and sets X509_V_FLAG_CRL_CHECK (src/net.c, 2.0): the client certificate's issuer must have a CRL
 * here, or every client of that issuer is refused. The root's CRL is in it too, so a verifier that
 * also checks the issuing CAs (X509_V_FLAG_CRL_CHECK_ALL, `openssl verify -crl_check_all`) finds
 * what it needs. A broker fails open on a bad file, so a bundle is checked as read back before it
 * replaces the one in use (`readCrlBundle`).
 */
import { KeyfleetError } from "../domain/index.js";
import { fromPem, toPem } from "../pki/index.js";

/** RFC 7468 §5.2 (and openssl, which refuses `BEGIN CRL`). */
const label = "X509 CRL";

export function crlBundle(crls: readonly Uint8Array[]): string {
  if (crls.length === 0) throw new KeyfleetError("internal", "a CRL bundle needs at least one CRL");
  return crls.map((der) => toPem(label, der)).join("");
}

/**
 * The CRLs in a bundle's text as read back from its file: refused unless it parses as PEM and
 * holds exactly `expected`, in order, and nothing else (a file cut short, padded or mixed up with
 * another never passes).
 */
export function readCrlBundle(text: string, expected: readonly Uint8Array[]): Uint8Array[] {
  const bad = (why: string) => new KeyfleetError("internal", `the CRL bundle as written ${why}`);
  let crls: Uint8Array[];
  try {
    crls = fromPem(text, label);
  } catch (e) {
    throw bad(`does not read as PEM: ${(e as Error).message}`);
  }
  if (crls.length !== expected.length) throw bad(`holds ${crls.length} CRLs, not ${expected.length}`);
  crls.forEach((der, i) => {
    if (!Buffer.from(der).equals(expected[i]!)) throw bad(`has CRL ${i + 1} differing from the one signed`);
  });
  if (text !== crlBundle(crls)) throw bad("holds something besides its CRLs");
  return crls;
}
