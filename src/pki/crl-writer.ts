/**
 * CRLs (RFC 5280 §5), full and delta, written by a purpose-built DER writer. Entries are added one
 * at a time (the CA streams them from the database) into one growing buffer with room kept in
 * front; finish() writes the header into that room, right-aligned against the first entry, and
 * the extensions, signature algorithm and signature after the last, so the TBSCertList is signed
 * and the CertificateList returned without copying the entries again. Memory is the CRL's own
 * size (and the buffer's slack), never an object per entry.
 *
 * Each entry: the serial, the revocation date, reasonCode (omitted for unspecified, §5.3.1) and
 * invalidityDate (GeneralizedTime, §5.3.2). The CRL: v2, AKI, CRL Number, Issuing Distribution
 * Point (critical; the URL it is published at, which a shard makes its own), Freshest CRL in a
 * full CRL (where the delta is), Delta CRL Indicator (critical) in a delta. An empty CRL has no
 * revokedCertificates field at all (§5.1.2.6).
 */
import type { Signer } from "../crypto/index.js";
import { KeyfleetError } from "../domain/index.js";
import {
  bitString,
  explicit,
  generalizedTime,
  integer,
  sequence,
  smallInteger,
  tag,
  time,
  tlv,
  tlvHeader,
} from "./der.js";
import { authorityKeyIdentifier, extension, freshestCrl, issuingDistributionPoint } from "./extensions.js";
import { oid as oids } from "./oids.js";

/** RFC 5280 §5.3.1 CRLReason, with its ENUMERATED value (7 is unused). */
export const revocationReasons = {
  unspecified: 0,
  keyCompromise: 1,
  cACompromise: 2,
  affiliationChanged: 3,
  superseded: 4,
  cessationOfOperation: 5,
  certificateHold: 6,
  removeFromCRL: 8,
  privilegeWithdrawn: 9,
  aACompromise: 10,
} as const;

export type RevocationReason = keyof typeof revocationReasons;

export interface CrlEntry {
  /** The certificate's serial number, unsigned big-endian. */
  readonly serial: Uint8Array;
  readonly revokedAt: Date;
  readonly reason?: RevocationReason | undefined;
  /** When the key is known or suspected to have been compromised (§5.3.2). */
  readonly invalidSince?: Date | undefined;
}

export interface CrlHeader {
  /** The issuer's Name, DER, as in its certificate, and its key identifier (the AKI). */
  readonly issuerName: Uint8Array;
  readonly keyIdentifier: Uint8Array;
  readonly signer: Signer;
  readonly thisUpdate: Date;
  readonly nextUpdate: Date;
  /** §5.2.3: one monotonically increasing sequence per issuer, full and delta CRLs alike. */
  readonly crlNumber: bigint;
  /**
   * The CRL's scope, its Issuing Distribution Point: the URL its full CRL is published at (a shard's
   * own). A delta CRL has its base's (§5.2.4: the same scope; openssl matches the two), though it is
   * published at the full CRL's Freshest CRL URL. Undefined: no IDP, the CRL covers everything the
   * issuer issued (a root's CRL: a relying party checking the whole chain, `-crl_check_all`, checks
   * the self-signed root against it too, and the root names no distribution point to match).
   */
  readonly distributionPoint: string | undefined;
  /** The issuer issues end-entity certificates only (IDP onlyContainsUserCerts). */
  readonly onlyUserCertificates: boolean;
  /** A delta CRL: the CRL Number of the full CRL it updates (§5.2.4). Otherwise a full CRL. */
  readonly baseCrlNumber?: bigint | undefined;
  /** A full CRL: where its delta CRL is published (§5.2.6). */
  readonly deltaDistributionPoint?: string | undefined;
}

/** Room kept before the first entry for the header: Name, times, lengths; an issuer Name is far smaller. */
const HEADER_ROOM = 8192;
/** Room for one entry with a reasonCode and a 16-octet serial (52 octets), and for what follows the last. */
const ENTRY_ROOM = 53;
const TAIL_ROOM = 2048;
/** §5.2.3: CRL numbers are at most 20 octets. */
const MAX_CRL_NUMBER = (1n << 159n) - 1n;

function bigintInteger(n: bigint, what: string): Uint8Array {
  if (n < 0n || n > MAX_CRL_NUMBER) {
    throw new KeyfleetError("internal", `${what} ${n} is outside 0 … 2^159 − 1 (RFC 5280 §5.2.3)`);
  }
  const hex = n.toString(16);
  return integer(Uint8Array.from(Buffer.from(hex.length % 2 ? `0${hex}` : hex, "hex")));
}

/** One revokedCertificates entry, DER. */
export function crlEntry(e: CrlEntry): Uint8Array {
  if (e.serial.length === 0 || e.serial.length > 20) {
    throw new KeyfleetError("internal", "a serial number is 1 to 20 octets (RFC 5280 §4.1.2.2)");
  }
  const extensions: Uint8Array[] = [];
  if (e.reason !== undefined && e.reason !== "unspecified") {
    extensions.push(extension(oids.reasonCode, false, tlv(0x0a, Uint8Array.of(revocationReasons[e.reason]))));
  }
  if (e.invalidSince !== undefined) {
    extensions.push(extension(oids.invalidityDate, false, generalizedTime(e.invalidSince)));
  }
  return sequence(
    integer(e.serial),
    time(e.revokedAt),
    ...(extensions.length > 0 ? [sequence(...extensions)] : []),
  );
}

export class CrlWriter {
  #buffer: Uint8Array;
  #end = HEADER_ROOM;
  #count = 0;

  readonly #expected: number;

  /**
   * `expectedEntries` (a count of the rows to come) sizes the buffer once: room for that many
   * entries with a reason code, and where they run longer (invalidity dates), one growth sized by
   * the entries still to come.
   */
  constructor(expectedEntries = 0) {
    this.#expected = Math.max(0, expectedEntries);
    this.#buffer = new Uint8Array(HEADER_ROOM + TAIL_ROOM + this.#expected * ENTRY_ROOM);
  }

  get count(): number {
    return this.#count;
  }

  add(entry: CrlEntry): void {
    this.#append(crlEntry(entry));
    this.#count++;
  }

  /** The signed CertificateList, DER; the writer is spent. */
  async finish(h: CrlHeader): Promise<Uint8Array> {
    if (h.nextUpdate.getTime() <= h.thisUpdate.getTime()) {
      throw new KeyfleetError("internal", "a CRL's nextUpdate must be after its thisUpdate");
    }
    const delta = h.baseCrlNumber !== undefined;
    if (delta && h.baseCrlNumber! >= h.crlNumber) {
      throw new KeyfleetError("internal", "a delta CRL's number must be above its base CRL's");
    }
    const entriesLength = this.#end - HEADER_ROOM;
    const crlExtensions = explicit(
      0,
      sequence(
        authorityKeyIdentifier(h.keyIdentifier),
        extension(oids.cRLNumber, false, bigintInteger(h.crlNumber, "the CRL number")),
        ...(h.distributionPoint === undefined
          ? []
          : [issuingDistributionPoint(h.distributionPoint, h.onlyUserCertificates)]),
        ...(delta
          ? [extension(oids.deltaCRLIndicator, true, bigintInteger(h.baseCrlNumber!, "the base CRL number"))]
          : h.deltaDistributionPoint === undefined
            ? []
            : [freshestCrl(h.deltaDistributionPoint)]),
      ),
    );
    const algorithm = h.signer.signatureAlgorithm.algorithmIdentifier;
    const lead = [
      smallInteger(1), // v2
      algorithm,
      h.issuerName,
      time(h.thisUpdate),
      time(h.nextUpdate),
      ...(entriesLength > 0 ? [tlvHeader(tag.sequence, entriesLength)] : []),
    ];
    const leadLength = lead.reduce((n, part) => n + part.length, 0);
    const tbsHeader = tlvHeader(tag.sequence, leadLength + entriesLength + crlExtensions.length);
    const tbsStart = HEADER_ROOM - leadLength - tbsHeader.length;
    if (tbsStart < 16) throw new KeyfleetError("internal", "the issuer's name is too long for a CRL header");
    let at = tbsStart;
    for (const part of [tbsHeader, ...lead]) {
      this.#buffer.set(part, at);
      at += part.length;
    }
    this.#append(crlExtensions);
    const tbs = this.#buffer.subarray(tbsStart, this.#end);
    const signature = bitString(await h.signer.sign(tbs));
    this.#append(algorithm);
    this.#append(signature);
    const outer = tlvHeader(tag.sequence, this.#end - tbsStart);
    const start = tbsStart - outer.length;
    this.#buffer.set(outer, start);
    const der = this.#buffer.subarray(start, this.#end);
    this.#buffer = new Uint8Array(0);
    return der;
  }

  #append(bytes: Uint8Array): void {
    if (this.#end + bytes.length > this.#buffer.length) {
      // Past the count: half again. Short of it: as much again as the entries so far took, per entry to come.
      const left = this.#expected - this.#count;
      const perEntry = this.#count > 0 ? (this.#end - HEADER_ROOM) / this.#count : ENTRY_ROOM;
      const wanted =
        left > 0
          ? this.#end + Math.ceil(left * perEntry * 1.05) + TAIL_ROOM
          : Math.ceil(this.#buffer.length * 1.5);
      const grown = new Uint8Array(Math.max(this.#end + bytes.length + TAIL_ROOM, wanted));
      grown.set(this.#buffer.subarray(0, this.#end));
      this.#buffer = grown;
    }
    this.#buffer.set(bytes, this.#end);
    this.#end += bytes.length;
  }
}
