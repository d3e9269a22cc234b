/**
 * A certs-only CMS SignedData (RFC 5652 §5, "degenerate": no signers, no content), the answer EST
 * gives for cacerts and enrollment (RFC 7030 §4.1.3, §4.2.3; smime-type=certs-only, RFC 8551
 * §3.2.2). Version 1, empty digestAlgorithms and signerInfos, id-data encapsulated without
 * eContent: the same bytes `openssl crl2pkcs7 -nocrl` writes.
 */
import { explicit, implicit, oid as encodeOid, sequence, set, smallInteger } from "./der.js";
import { oid } from "./oids.js";

export function certsOnly(certificates: readonly Uint8Array[]): Uint8Array {
  const signedData = sequence(
    smallInteger(1),
    set(),
    sequence(encodeOid(oid.data)),
    implicit(0, set(...certificates)),
    set(),
  );
  return sequence(encodeOid(oid.signedData), explicit(0, signedData));
}
