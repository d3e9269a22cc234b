/**
 * Writes PKCS#10 certification requests (RFC 2986) for a key that signs through a Signer, so a
 * device's CSR is signed where its key lives (a secure element, a TPM, a PKCS#11 token) and the
 * private key is never in hand. The subject, the subjectAltName extension request (RFC 2985
 * §5.4.2) and an optional challengePassword (RFC 2985 §5.4.1: how EST carries a nonce, RFC 7030
 * §3.5 and §4.2.1) are all it writes: anything else a certificate carries, the CA decides.
 */
import type { Signer } from "../crypto/index.js";
import { KeyfleetError } from "../domain/index.js";
import {
  bitString,
  compareBytes,
  isPrintableString,
  oid,
  printableString,
  sequence,
  set,
  smallInteger,
  tag,
  tlv,
  utf8String,
} from "./der.js";
import { readOnly } from "./der-reader.js";
import { subjectAltName } from "./extensions.js";
import { limits } from "./limits.js";
import { encodeName, type DistinguishedName } from "./name.js";
import { oid as oids } from "./oids.js";
import type { SanEntry } from "./san.js";

export interface CsrRequest {
  /**
   * The subject: attributes to encode, or a Name already in DER, copied as it is (a re-enrollment
   * repeats its certificate's subject octet for octet, RFC 7030 §4.2.2).
   */
  readonly subject: DistinguishedName | Uint8Array;
  readonly sans?: readonly SanEntry[];
  /** An EST/SCEP nonce or one-time password, placed in the challengePassword attribute. */
  readonly challengePassword?: string;
}

const attribute = (type: string, value: Uint8Array): Uint8Array => sequence(oid(type), set(value));

/**
 * RFC 2985 §5.4.1: DirectoryString of at most 255 characters, PrintableString "whenever possible",
 * UTF8String otherwise.
 */
function challengePassword(password: string): Uint8Array {
  if (password.length === 0 || [...password].length > limits.challengePasswordCharacters) {
    throw new KeyfleetError(
      "malformed-request",
      `a challengePassword has 1 to ${limits.challengePasswordCharacters} characters (RFC 2985 §5.4.1)`,
    );
  }
  const value = isPrintableString(password) ? printableString(password) : utf8String(password);
  return attribute(oids.challengePassword, value);
}

/** A DER Name given by the caller: one SEQUENCE, nothing after it (its contents are the issuer's business). */
function subjectDer(der: Uint8Array): Uint8Array {
  readOnly(der, tag.sequence, "the CSR's subject");
  return der;
}

/** CertificationRequestInfo (RFC 2986 §4.1), DER: what the signature covers. */
export function csrRequestInfo(request: CsrRequest, subjectPublicKeyInfo: Uint8Array): Uint8Array {
  const sans = request.sans ?? [];
  const subject =
    request.subject instanceof Uint8Array ? subjectDer(request.subject) : encodeName(request.subject);
  const emptySubject = subject.length === 2; // SEQUENCE {} (30 00)
  const attributes: Uint8Array[] = [];
  if (sans.length > 0) {
    // RFC 5280 §4.2.1.6: the SAN is critical when the subject is empty, and names the subject alone.
    const extensions = sequence(subjectAltName(sans, emptySubject));
    attributes.push(attribute(oids.extensionRequest, extensions));
  }
  if (request.challengePassword !== undefined) attributes.push(challengePassword(request.challengePassword));
  if (emptySubject && sans.length === 0) {
    throw new KeyfleetError("malformed-request", "a CSR needs a subject or a subject alternative name");
  }
  // attributes [0] IMPLICIT SET OF Attribute: DER orders a SET OF by encoding (X.690 §11.6).
  const attributeSet = tlv(0xa0, ...attributes.sort(compareBytes));
  return sequence(smallInteger(0), subject, subjectPublicKeyInfo, attributeSet);
}

/** The CSR, DER, signed by `signer` over its CertificationRequestInfo (RFC 2986 §4.2). */
export async function writeCsr(request: CsrRequest, signer: Signer): Promise<Uint8Array> {
  const info = csrRequestInfo(request, signer.publicKey);
  const signature = await signer.sign(info);
  return sequence(info, signer.signatureAlgorithm.algorithmIdentifier, bitString(signature));
}
