/**
 * The CRLs of one scope (an issuer's shard, RFC 5280 §5), made from the database. A full CRL holds
 * the scope's held and revoked certificates that have not expired and points to its delta
 * (Freshest CRL); a delta CRL holds the certificates whose status changed where its base full
 * CRL's snapshot did not see it — revoked, on hold, or their hold lifted (removeFromCRL) — and
 * names its base (Delta CRL Indicator). Both stream their rows, in serial order, into the CRL
 * writer (memory: the CRL's own size), signed by the issuer's key in its store.
 *
 * The number and the rows are read in one repeatable-read transaction, so a CRL is one moment's
 * truth, a higher number never holds an older one, and the snapshot it records is where a later
 * delta starts. A full CRL and a delta made together are read in that one snapshot and share one
 * number (§5.2.3: issued at the same time, they MUST have the same CRL number and provide the same
 * revocation information).
 */
import type { KeyStore } from "../crypto/index.js";
import { KeyfleetError, quoted, type Clock } from "../domain/index.js";
import { compileIssuer, CrlWriter, revocationReasons, type RevocationReason } from "../pki/index.js";
import {
  crlRepository,
  type Database,
  type IssuerRepository,
  type RevokedCertificateRow,
} from "../store/index.js";
import { issuerSigner } from "./issuer-keys.js";
import { issuerUrls, type CrlKind, type CrlScope } from "./urls.js";

export interface CrlProducerDeps {
  readonly database: Database;
  readonly issuers: IssuerRepository;
  readonly keyStore: KeyStore;
  readonly clock: Clock;
}

export interface ProducedCrl {
  readonly issuerId: string;
  readonly shard: number;
  readonly kind: CrlKind;
  readonly number: bigint;
  /** A delta's base: the number of the full CRL it updates. */
  readonly baseNumber: bigint | null;
  /** The snapshot its rows were read in (pg_snapshot, as text): a later delta holds what it did not see. */
  readonly snapshot: string;
  readonly thisUpdate: Date;
  readonly nextUpdate: Date;
  readonly entries: number;
  readonly der: Uint8Array;
}

/** How long a full CRL is good for: relying parties refuse everything after nextUpdate, so it is republished well before. */
export const crlValiditySeconds = 24 * 3600;
/** How long a delta CRL is good for: a relying party using deltas learns of a revocation within this. */
export const deltaCrlValiditySeconds = 3600;
/** Tries of a CRL whose number a concurrent producer took first (40001): each reads a newer snapshot. */
const attempts = 5;

/** The full CRL a delta is made against. */
export interface DeltaBase {
  readonly number: bigint;
  readonly snapshot: string;
}

/** What to make: a full CRL, a delta against `base`, or both (one snapshot, one number). */
export interface CrlOrder {
  readonly full: boolean;
  readonly base?: DeltaBase | undefined;
  /**
   * When the last full CRL was made: certificates that expired since stay listed once more
   * (RFC 5280 §3.3); none before it. Absent: from now.
   */
  readonly keptSince?: Date | undefined;
}

/** The CRLs `order` asks for, full before delta. */
export async function produceCrls(
  deps: CrlProducerDeps,
  scope: CrlScope,
  publicUrl: string,
  order: CrlOrder,
): Promise<ProducedCrl[]> {
  const { base } = order;
  if (!order.full && base === undefined) throw new KeyfleetError("internal", "a CRL order asks for no CRL");
  const issuer = await deps.issuers.byId(scope.issuerId);
  if (!issuer) throw new KeyfleetError("not-found", `no CA ${quoted(scope.issuerId)}`);
  if (scope.shard >= issuer.crl_shards) {
    throw new KeyfleetError("not-found", `CA ${quoted(issuer.id)} has no CRL shard ${scope.shard}`);
  }
  const signer = await issuerSigner(deps.issuers, deps.keyStore, issuer);
  const template = compileIssuer({ certificate: issuer.certificate, signer });
  const thisUpdate = new Date(Math.floor(deps.clock.now().getTime() / 1000) * 1000);
  const keptSince = order.keptSince && order.keptSince < thisUpdate ? order.keptSince : thisUpdate;
  const read = await retried(() =>
    deps.database.transaction(async (tx) => {
      const rows = crlRepository(tx);
      await rows.oneSnapshot();
      const number = await rows.nextNumber(scope.issuerId); // the snapshot's first read: see nextNumber
      const snapshot = await rows.currentSnapshot();
      let full: CrlWriter | undefined;
      if (order.full) {
        full = new CrlWriter(await rows.countNotGood(scope, keptSince));
        for await (const row of rows.notGood(scope, keptSince)) full.add(entryOf(row, thisUpdate));
      }
      let delta: CrlWriter | undefined;
      if (base !== undefined) {
        delta = new CrlWriter();
        for await (const row of rows.changedSince(scope, base.snapshot, keptSince)) {
          delta.add(entryOf(row, thisUpdate));
        }
      }
      return { number, snapshot, full, delta };
    }),
  );
  const urls = issuerUrls(publicUrl, scope.issuerId, scope.shard);
  const header = {
    issuerName: template.issuerName,
    keyIdentifier: template.keyIdentifier,
    signer,
    thisUpdate,
    crlNumber: read.number,
    distributionPoint: issuer.kind === "root" ? undefined : urls.crl,
    onlyUserCertificates: issuer.kind === "intermediate",
  };
  const produced: ProducedCrl[] = [];
  const made = (kind: CrlKind, writer: CrlWriter, validitySeconds: number) => ({
    ...scope,
    kind,
    number: read.number,
    snapshot: read.snapshot,
    thisUpdate,
    nextUpdate: new Date(thisUpdate.getTime() + validitySeconds * 1000),
    entries: writer.count,
  });
  if (read.full) {
    const crl = made("full", read.full, crlValiditySeconds);
    const der = await read.full.finish({
      ...header,
      nextUpdate: crl.nextUpdate,
      deltaDistributionPoint: urls.deltaCrl,
    });
    produced.push({ ...crl, baseNumber: null, der });
  }
  if (read.delta) {
    const crl = made("delta", read.delta, deltaCrlValiditySeconds);
    const der = await read.delta.finish({
      ...header,
      nextUpdate: crl.nextUpdate,
      baseCrlNumber: base!.number,
    });
    produced.push({ ...crl, baseNumber: base!.number, der });
  }
  return produced;
}

/** `work`, again while a concurrent transaction made it fail to serialize (SQLSTATE 40001). */
async function retried<T>(work: () => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await work();
    } catch (e) {
      if ((e as { code?: unknown }).code !== "40001" || attempt >= attempts) throw e;
    }
  }
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

/** A held or revoked certificate's reason, as CRL entries and OCSP answers give it. */
export function reasonOf(row: Pick<RevokedCertificateRow, "serial" | "status" | "reason">): RevocationReason {
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
