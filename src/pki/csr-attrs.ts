/**
 * EST CSR attributes (RFC 7030 §4.5.2, with the RFC 8951 §3.2 clarification of its ASN.1): what
 * the server would like a CSR to carry. CsrAttrs ::= SEQUENCE OF AttrOrOID, where AttrOrOID is an
 * OID alone or an Attribute with values. Keyfleet asks for ECDSA P-256 signed with SHA-256, and for
 * a challengePassword: with a fresh nonce for an authenticated device as its value, so the device
 * copies it into its CSR and the request cannot be replayed.
 */
import { oid as encodeOid, sequence, set, utf8String } from "./der.js";
import { oid } from "./oids.js";

export function csrAttrs(options: { readonly nonce?: string | undefined }): Uint8Array {
  const challenge =
    options.nonce === undefined
      ? encodeOid(oid.challengePassword)
      : sequence(encodeOid(oid.challengePassword), set(utf8String(options.nonce)));
  return sequence(
    challenge,
    sequence(encodeOid(oid.ecPublicKey), set(encodeOid(oid.p256))),
    encodeOid(oid.ecdsaWithSha256),
  );
}
