/**
 * A CRL for one issuer (RFC 5280 §5), made from the database. A full CRL holds the issuer's held
 * and revoked certificates that have not expired and points to its delta (Freshest CRL); a delta
 * CRL holds the certificates whose status changed after its base full CRL was made — revoked, on
 * hold, or their hold lifted (removeFromCRL) — and names its base (Delta CRL Indicator). Both take
 * the issuer's next CRL Number and stream their rows, in serial order, into the CRL writer (memory:
 * the CRL's own size), signed by the issuer's key in its store. Rows are read in one
 * repeatable-read transaction, so a CRL is one moment's truth, and it records the last revocation
 * record it includes, which the next delta starts after.
 */
import type { KeyStore } from "../crypto/index.js";
import { KeyfleetError, quoted, type Clock } from "../domain/index.js";
import { compileIssuer, CrlWriter, revocationReasons, type RevocationReason } from "../pki/index.js";
import {
  crlRepository,
  revocationRepository,
  type Database,
  type IssuerRepository,
  type RevokedCertificateRow,
} from "../store/index.js";
import { issuerSigner } from "./issuer-keys.js";
import { issuerUrls } from "./urls.js";

export interface CrlProducerDeps {
  readonly database: Database;
  readonly issuers: IssuerRepository;
  readonly keyStore: KeyStore;
  readonly clock: Clock;
}

export type CrlKind = "full" | "delta";

export interface ProducedCrl {
  readonly issuerId: string;
  readonly kind: CrlKind;
  readonly number: bigint;
  /** A delta's base: the number of the full CRL it updates. */
  readonly baseNumber: bigint | null;
  /** The last revocation record (status_changes.seq) it includes; 0 when none. */
  readonly throughSeq: number;
  readonly thisUpdate: Date;
  readonly nextUpdate: Date;
  readonly entries: number;
  readonly der: Uint8Array;
}

/** How long a full CRL is good for: relying parties refuse everything after nextUpdate, so it is republished well before. */
export const crlValiditySeconds = 24 * 3600;
/** How long a delta CRL is good for: a relying party using deltas learns of a revocation within this. */
export const deltaCrlValiditySeconds = 3600;

/** The full CRL a delta is made against. */
export interface DeltaBase {
  readonly number: bigint;
  readonly throughSeq: number;
}

export async function produceCrl(
  deps: CrlProducerDeps,
  issuerId: string,
  publicUrl: string,
  options: {
    /** Makes a delta CRL against this full CRL; a full CRL without. */
    readonly base?: DeltaBase | undefined;
    /** About how many entries it will have (the last one's count): its buffer is sized once. */
    readonly expectedEntries?: number | undefined;
  } = {},
): Promise<ProducedCrl> {
  const { base } = options;
  const issuer = await deps.issuers.byId(issuerId);
  if (!issuer) throw new KeyfleetError("not-found", `no CA ${quoted(issuerId)}`);
  const signer = await issuerSigner(deps.issuers, deps.keyStore, issuer);
  const template = compileIssuer({ certificate: issuer.certificate, signer });
  const number = await crlRepository(deps.database.db).nextNumber(issuerId);
  const thisUpdate = new Date(Math.floor(deps.clock.now().getTime() / 1000) * 1000);
  const writer = new CrlWriter(Math.ceil((options.expectedEntries ?? 0) * 1.05));
  const throughSeq = await deps.database.transaction(async (tx) => {
    const rows = crlRepository(tx);
    await rows.oneSnapshot();
    const through = await revocationRepository(tx).lastChange(issuerId);
    const stream =
      base === undefined
        ? rows.notGood(issuerId, thisUpdate)
        : rows.changedSince(issuerId, base.throughSeq, thisUpdate);
    for await (const row of stream) writer.add(entryOf(row, thisUpdate));
    return through;
  });
  const validity = base === undefined ? crlValiditySeconds : deltaCrlValiditySeconds;
  const nextUpdate = new Date(thisUpdate.getTime() + validity * 1000);
  const entries = writer.count;
  const urls = issuerUrls(publicUrl, issuerId);
  const der = await writer.finish({
    issuerName: template.issuerName,
    keyIdentifier: template.keyIdentifier,
    signer,
    thisUpdate,
    nextUpdate,
    crlNumber: number,
    distributionPoint: urls.crl,
    onlyUserCertificates: issuer.kind === "intermediate",
    ...(base === undefined ? { deltaDistributionPoint: urls.deltaCrl } : { baseCrlNumber: base.number }),
  });
  return {
    issuerId,
    kind: base === undefined ? "full" : "delta",
    number,
    baseNumber: base?.number ?? null,
    throughSeq,
    thisUpdate,
    nextUpdate,
    entries,
    der,
  };
}

function entryOf(row: RevokedCertificateRow, thisUpdate: Date) {
  const serial = Buffer.from(row.serial.length % 2 ? `0${row.serial}` : row.serial, "hex");
  if (row.status === "good") {
    // A hold lifted after the base: the delta takes it off (§5.3.1 removeFromCRL). When the hold
    // was lifted is not kept on the certificate; the delta's own time stands for it.
    return { serial, revokedAt: thisUpdate, reason: "removeFromCRL" as const };
  }
  return {
    serial,
    revokedAt: row.revokedAt!, // set whenever the status is not good (revocation-repository.ts)
    reason: reasonOf(row),
    invalidSince: row.invalidityDate ?? undefined,
  };
}

function reasonOf(row: RevokedCertificateRow): RevocationReason {
  if (row.status === "hold") return "certificateHold";
  const reason = row.reason ?? "unspecified";
  if (!Object.hasOwn(revocationReasons, reason)) {
    throw new KeyfleetError(
      "internal",
      `certificate ${row.serial} has an unknown revocation reason ${quoted(reason)}`,
    );
  }
  return reason as RevocationReason;
}
