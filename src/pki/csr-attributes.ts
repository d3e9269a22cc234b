/**
 * The attributes of a PKCS#10 request (RFC 2986 §4.1, PKCS#9 / RFC 2985 §5.4): the extension request,
 * read into what Keyfleet decides on (SANs, CA flags, which extensions were asked for and how
 * critically), and the challengePassword that EST/SCEP nonces ride in. Other attributes do not
 * reach a certificate and are ignored.
 */
import { quoted } from "../domain/index.js";
import { tag } from "./der.js";
import {
  boundedChildren,
  children,
  expect,
  malformed,
  readBitString,
  readBoolean,
  readOctetString,
  readOid,
  readOnly,
  readString,
  type Tlv,
} from "./der-reader.js";
import { limits } from "./limits.js";
import { oid } from "./oids.js";
import { decodeGeneralNames, type SanEntry } from "./san.js";

export interface RequestedExtension {
  readonly oid: string;
  readonly critical: boolean;
}

export interface CsrAttributes {
  readonly sans: readonly SanEntry[];
  readonly requestedExtensions: readonly RequestedExtension[];
  readonly requestsCa: boolean;
  readonly challengePassword?: string;
}

const what = "the CSR's attributes";

/** `attributes [0] IMPLICIT SET OF Attribute`; absent is read as empty. */
export function decodeAttributes(t: Tlv | undefined): CsrAttributes {
  let extensions: Tlv | undefined;
  let challengePassword: string | undefined;
  const attributes = t
    ? boundedChildren(expect(t, 0xa0, what), limits.csrAttributes, "attributes", what)
    : [];
  for (const attribute of attributes) {
    const [typeTlv, values, ...extra] = children(expect(attribute, tag.sequence, what), what);
    if (!typeTlv || !values || extra.length) throw malformed(what, "Attribute has the wrong shape");
    const type = readOid(typeTlv, what);
    const twice = (): never => {
      throw malformed(what, `attribute ${quoted(type)} appears twice`);
    };
    if (type === oid.extensionRequest) {
      if (extensions) twice();
      extensions = singleValue(values, "extensionRequest");
    } else if (type === oid.challengePassword) {
      if (challengePassword !== undefined) twice();
      challengePassword = readChallengePassword(singleValue(values, "challengePassword"));
    }
  }
  const decoded = extensions
    ? decodeExtensions(extensions)
    : { sans: [], requestedExtensions: [], requestsCa: false };
  return challengePassword === undefined ? decoded : { ...decoded, challengePassword };
}

/** DirectoryString (UTF8String at most: 4 octets a character), bounded before it is decoded. */
function readChallengePassword(t: Tlv): string {
  const w = `${what} challengePassword`;
  if (t.end - t.valueStart > 4 * limits.challengePasswordCharacters) {
    throw malformed(w, `longer than ${limits.challengePasswordCharacters} characters (RFC 2985 §5.4.1)`);
  }
  const password = readString(t, w);
  if ([...password].length > limits.challengePasswordCharacters) {
    throw malformed(w, `longer than ${limits.challengePasswordCharacters} characters (RFC 2985 §5.4.1)`);
  }
  return password;
}

function singleValue(values: Tlv, name: string): Tlv {
  const inner = children(expect(values, tag.set, `${what} ${name}`), `${what} ${name}`);
  if (inner.length !== 1) throw malformed(`${what} ${name}`, `expected one value, found ${inner.length}`);
  return inner[0]!;
}

function decodeExtensions(t: Tlv): Omit<CsrAttributes, "challengePassword"> {
  const w = "the CSR's extension request";
  const requested: RequestedExtension[] = [];
  let sans: SanEntry[] = [];
  let requestsCa = false;
  for (const ext of boundedChildren(expect(t, tag.sequence, w), limits.extensions, "extensions", w)) {
    const fields = children(expect(ext, tag.sequence, w), w);
    if (fields.length < 2 || fields.length > 3) throw malformed(w, "Extension has the wrong shape");
    const id = readOid(fields[0]!, w);
    // critical BOOLEAN DEFAULT FALSE: DER omits FALSE; an explicit FALSE means the same and is accepted.
    const critical = fields.length === 3 ? readBoolean(fields[1]!, w) : false;
    const extValue = readOctetString(fields[fields.length - 1]!, `${w} ${quoted(id)}`);
    if (requested.some((r) => r.oid === id))
      throw malformed(w, `extension ${quoted(id)} appears twice (RFC 5280 §4.2)`);
    requested.push({ oid: id, critical });
    if (id === oid.subjectAltName)
      sans = decodeGeneralNames(
        readOnly(extValue, tag.sequence, `${w} subjectAltName`),
        `${w} subjectAltName`,
      );
    else if (id === oid.basicConstraints) requestsCa ||= basicConstraintsCa(extValue, w);
    else if (id === oid.keyUsage) requestsCa ||= keyUsageCa(extValue, w);
  }
  return { sans, requestedExtensions: requested, requestsCa };
}

/** BasicConstraints ::= SEQUENCE { cA BOOLEAN DEFAULT FALSE, pathLenConstraint INTEGER OPTIONAL } */
function basicConstraintsCa(extValue: Uint8Array, w: string): boolean {
  const fields = children(readOnly(extValue, tag.sequence, `${w} basicConstraints`), `${w} basicConstraints`);
  return fields[0]?.tag === tag.boolean ? readBoolean(fields[0], `${w} basicConstraints`) : false;
}

/** keyCertSign (bit 5) or cRLSign (bit 6) (RFC 5280 §4.2.1.3) is a request to act as a CA. */
function keyUsageCa(extValue: Uint8Array, w: string): boolean {
  const bits = readBitString(readOnly(extValue, tag.bitString, `${w} keyUsage`), `${w} keyUsage`);
  return ((bits.bytes[0] ?? 0) & (0x04 | 0x02)) !== 0;
}
