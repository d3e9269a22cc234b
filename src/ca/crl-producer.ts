/**
 * A full CRL for one issuer (RFC 5280 §5), made from the database: the next CRL Number, then the
 * issuer's held and revoked certificates that have not expired, streamed in serial order into the
 * CRL writer (memory: the CRL's own size), signed by the issuer's key in its store. The rows are
 * read in one repeatable-read transaction, so the CRL is one moment's truth.
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
import { issuerUrls } from "./urls.js";

export interface CrlProducerDeps {
  readonly database: Database;
  readonly issuers: IssuerRepository;
  readonly keyStore: KeyStore;
  readonly clock: Clock;
}

export interface ProducedCrl {
  readonly issuerId: string;
  readonly number: bigint;
  readonly thisUpdate: Date;
  readonly nextUpdate: Date;
  readonly entries: number;
  readonly der: Uint8Array;
}

/** How long a CRL is good for: relying parties refuse everything after nextUpdate, so it is republished well before. */
export const crlValiditySeconds = 24 * 3600;

export async function produceFullCrl(
  deps: CrlProducerDeps,
  issuerId: string,
  publicUrl: string,
): Promise<ProducedCrl> {
  const issuer = await deps.issuers.byId(issuerId);
  if (!issuer) throw new KeyfleetError("not-found", `no CA ${quoted(issuerId)}`);
  const signer = await issuerSigner(deps.issuers, deps.keyStore, issuer);
  const template = compileIssuer({ certificate: issuer.certificate, signer });
  const number = await crlRepository(deps.database.db).nextNumber(issuerId);
  const thisUpdate = new Date(Math.floor(deps.clock.now().getTime() / 1000) * 1000);
  const writer = new CrlWriter();
  await deps.database.transaction(async (tx) => {
    const rows = crlRepository(tx);
    await rows.oneSnapshot();
    for await (const row of rows.notGood(issuerId, thisUpdate)) {
      writer.add({ serial: Buffer.from(row.serial, "hex"), revokedAt: row.revokedAt, reason: reasonOf(row) });
    }
  });
  const nextUpdate = new Date(thisUpdate.getTime() + crlValiditySeconds * 1000);
  const entries = writer.count;
  const der = await writer.finish({
    issuerName: template.issuerName,
    keyIdentifier: template.keyIdentifier,
    signer,
    thisUpdate,
    nextUpdate,
    crlNumber: number,
    distributionPoint: issuerUrls(publicUrl, issuerId).crl,
    onlyUserCertificates: issuer.kind === "intermediate",
  });
  return { issuerId, number, thisUpdate, nextUpdate, entries, der };
}

/** A held or revoked certificate's reason, as CRL entries and OCSP answers give it. */
export function reasonOf(row: RevokedCertificateRow): RevocationReason {
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
