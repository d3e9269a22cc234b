/**
 * The CRL publisher (issue 17): each CA's full and delta CRLs, produced off the request path and
 * served from the artefact store, with the CA certificates. A publication is checked (its signature verifies under the CA's
 * key) before it replaces the one served, its file is in place before anything announces it, and
 * it is kept in the database (any node serves the newest, the next delta builds on it) with a
 * `crl.published` audit leaf and outbox event in one transaction.
 *
 * When (`due`, pure): a full CRL when there is none or half its validity is gone, or when
 * revocations wait and the full CRL is older than `fullRefreshSeconds` (relying parties that read
 * only full CRLs — a broker's `crlfile` — learn of a revocation within that); a delta when there is
 * none for the current full CRL, when revocations wait, or when half its validity is gone. The
 * `crl-publisher` task asks every `crlPublisherSeconds`; `keyfleet crl publish` publishes at once.
 */
import type { AuditLog } from "../audit/index.js";
import { KeyfleetError, quoted } from "../domain/index.js";
import type { Outbox } from "../events/index.js";
import type { Logger } from "../logger.js";
import { checkCrlSignature, readCertificate, readCrlHeader } from "../pki/index.js";
import { crlRepository, revocationRepository, type IssuerRow, type PublishedCrlRow } from "../store/index.js";
import { artefactOf, type Artefact, type ArtefactStore } from "./artefact-store.js";
import { produceCrl, type CrlKind, type CrlProducerDeps, type ProducedCrl } from "./crl-producer.js";

export interface CrlPublisherDeps extends CrlProducerDeps {
  readonly audit: AuditLog;
  readonly outbox: Outbox;
  readonly artefacts: ArtefactStore;
  readonly publicUrl: () => Promise<string>;
}

/** How often a server's publisher looks for revocations to publish (a delta CRL within this). */
export const crlPublisherSeconds = 10;
/** A full CRL is remade, when revocations wait, once it is this old. */
export const fullRefreshSeconds = 15 * 60;

/** What an issuer's newest CRLs are, as `due` weighs them. */
export interface PublishedState {
  readonly full: Pick<PublishedCrlRow, "number" | "through_seq" | "this_update" | "next_update"> | undefined;
  readonly delta:
    Pick<PublishedCrlRow, "base_number" | "through_seq" | "this_update" | "next_update"> | undefined;
  /** The issuer's newest revocation record. */
  readonly lastChange: number;
}

/** Which CRLs of an issuer are due now (a full one comes with its delta). */
export function due(state: PublishedState, now: Date): CrlKind[] {
  const { full, delta, lastChange } = state;
  const halfGone = (row: { this_update: Date; next_update: Date }) =>
    now.getTime() >= (row.this_update.getTime() + row.next_update.getTime()) / 2;
  const age = (row: { this_update: Date }) => (now.getTime() - row.this_update.getTime()) / 1000;
  if (!full || halfGone(full) || (lastChange > Number(full.through_seq) && age(full) >= fullRefreshSeconds)) {
    return ["full", "delta"];
  }
  if (
    !delta ||
    Number(delta.base_number) !== Number(full.number) ||
    lastChange > Number(delta.through_seq) ||
    halfGone(delta)
  ) {
    return ["delta"];
  }
  return [];
}

export const crlArtefactName = (issuerId: string, kind: CrlKind): string =>
  `crl/${issuerId}${kind === "delta" ? "-delta" : ""}.crl`;

export function crlPublisher(deps: CrlPublisherDeps) {
  const db = () => crlRepository(deps.database.db);
  let timer: NodeJS.Timeout | undefined;

  async function publishOne(issuer: IssuerRow, kind: CrlKind, actor: string): Promise<ProducedCrl> {
    const base = await db().published(issuer.id, "full");
    if (kind === "delta" && !base) {
      throw new KeyfleetError("not-found", `CA ${quoted(issuer.id)} has no full CRL for a delta to build on`);
    }
    const crl = await produceCrl(deps, issuer.id, await deps.publicUrl(), {
      base:
        kind === "delta"
          ? { number: BigInt(base!.number), throughSeq: Number(base!.through_seq) }
          : undefined,
      expectedEntries: kind === "full" ? (base?.entries ?? (await db().countNotGood(issuer.id))) : undefined,
    });
    const spki = readCertificate(issuer.certificate).subjectPublicKeyInfo;
    if (checkCrlSignature(crl.der, spki) !== "good") {
      throw new KeyfleetError(
        "internal",
        `CRL ${crl.number} of CA ${issuer.id} does not verify under its key; not published`,
      );
    }
    await deps.artefacts.put(
      crlArtefactName(issuer.id, kind),
      artefactOf(crl.der, crl.thisUpdate, crl.nextUpdate, crl.number),
    );
    const facts = {
      issuerId: crl.issuerId,
      kind: crl.kind,
      number: crl.number.toString(),
      baseNumber: crl.baseNumber?.toString() ?? null,
      entries: crl.entries,
      thisUpdate: crl.thisUpdate.toISOString(),
      nextUpdate: crl.nextUpdate.toISOString(),
    };
    await deps.database.transaction(async (tx) => {
      await crlRepository(tx).keep(
        {
          issuer_id: crl.issuerId,
          kind: crl.kind,
          number: crl.number,
          base_number: crl.baseNumber,
          through_seq: crl.throughSeq,
          this_update: crl.thisUpdate,
          next_update: crl.nextUpdate,
          entries: crl.entries,
          size: crl.der.length,
        },
        crl.der,
      );
      const subject = `ca:${crl.issuerId}`;
      const [position] = await deps.audit.append(tx, [
        { type: "crl.published", actor, subject, details: facts, time: crl.thisUpdate },
      ]);
      await deps.outbox.publish(tx, [
        { position: position!, type: "crl.published", subject, payload: facts },
      ]);
    });
    return crl;
  }

  /** The CAs that may still have certificates in use: not expired, active or retired. */
  async function livingIssuers(): Promise<IssuerRow[]> {
    const now = deps.clock.now().getTime();
    return (await deps.issuers.list()).filter((row) => row.not_after.getTime() > now);
  }

  async function issuerOf(id: string): Promise<IssuerRow> {
    const issuer = await deps.issuers.byId(id);
    if (!issuer) throw new KeyfleetError("not-found", `no CA ${quoted(id)}`);
    return issuer;
  }

  /**
   * Brings this process's served CRLs and CA certificates up to the database's (what other
   * nodes published); reads the bytes only of what changed. A CA certificate never changes: it is
   * written once as a file beside the CRLs.
   */
  async function sync(): Promise<void> {
    for (const issuer of await deps.issuers.list()) {
      const name = `ca/${issuer.id}.cer`;
      if (!deps.artefacts.get(name))
        await deps.artefacts.put(name, artefactOf(issuer.certificate, issuer.not_before, null));
    }
    const rows = db();
    for (const p of await rows.publishedNumbers()) {
      const name = crlArtefactName(p.issuer_id, p.kind);
      const served = deps.artefacts.get(name);
      if (served && served.number >= BigInt(p.number)) continue;
      // The row and its bytes from one snapshot: a newer CRL kept meanwhile replaces both.
      const kept = await deps.database.transaction(async (tx) => {
        const snapshot = crlRepository(tx);
        await snapshot.oneSnapshot();
        const row = await snapshot.published(p.issuer_id, p.kind);
        return row && { row, der: await snapshot.bytes(row) };
      });
      if (kept) {
        const { row, der } = kept;
        deps.artefacts.remember(name, artefactOf(der, row.this_update, row.next_update, BigInt(row.number)));
      }
    }
  }

  return {
    /**
     * Publishes CRLs now (`keyfleet crl publish`): a full CRL and its delta of every living CA, or
     * of `issuerId` only; returns them, full before delta.
     */
    async publishNow(actor: string, issuerId?: string): Promise<ProducedCrl[]> {
      const issuers = issuerId === undefined ? await livingIssuers() : [await issuerOf(issuerId)];
      const published: ProducedCrl[] = [];
      for (const issuer of issuers) {
        published.push(await publishOne(issuer, "full", actor));
        published.push(await publishOne(issuer, "delta", actor));
      }
      return published;
    },

    /** The `crl-publisher` task: every living CA's CRLs that are due. */
    async publishDue(): Promise<ProducedCrl[]> {
      const published: ProducedCrl[] = [];
      const rows = db();
      for (const issuer of await livingIssuers()) {
        const state: PublishedState = {
          full: await rows.published(issuer.id, "full"),
          delta: await rows.published(issuer.id, "delta"),
          lastChange: await revocationRepository(deps.database.db).lastChange(issuer.id),
        };
        for (const kind of due(state, deps.clock.now()))
          published.push(await publishOne(issuer, kind, "system"));
      }
      return published;
    },

    sync,

    /** An artefact this process serves (`crl/<ca>.crl`, `ca/<ca>.cer`…), from memory. */
    served: (name: string): Artefact | undefined => deps.artefacts.get(name),

    /**
     * Serves what the data directory holds at once (the database may not answer yet), then keeps
     * this process's CRLs up to the database's every `crlPublisherSeconds`, until `stop`.
     */
    async start(logger: Logger): Promise<void> {
      const crls = await deps.artefacts.load("crl", (bytes) => {
        const header = readCrlHeader(bytes);
        return { lastModified: header.thisUpdate, expires: header.nextUpdate, number: header.number };
      });
      const cas = await deps.artefacts.load("ca", (bytes) => ({
        lastModified: readCertificate(bytes).notBefore,
        expires: null,
        number: 0n,
      }));
      const unreadable = [...crls.unreadable, ...cas.unreadable];
      if (unreadable.length > 0)
        logger.warn({ files: unreadable }, "CRL files that do not read as CRLs are not served");
      const tick = () =>
        sync().catch((e: unknown) => logger.warn({ err: e }, "CRLs not synced from the database"));
      await tick();
      timer ??= setInterval(tick, crlPublisherSeconds * 1000);
      timer.unref();
    },

    stop(): void {
      if (timer) clearInterval(timer);
      timer = undefined;
    },
  };
}

export type CrlPublisher = ReturnType<typeof crlPublisher>;
