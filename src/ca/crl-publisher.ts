/**
 * The CRL publisher (issue 17): each CRL scope's (each CA's, each of its shards') full and delta
 * CRLs, produced off the request path and served from the artefact store, with the CA
 * certificates. A publication is checked (its signature verifies under the CA's key) before it
 * replaces the one served, its file is in place before anything announces it, and it is kept in
 * the database (any node serves the newest, the next delta builds on it) with a `crl.published`
 * audit leaf and outbox event in one transaction.
 *
 * When (`due`, pure): a full CRL when there is none or half its validity is gone, or when
 * revocations wait and the full CRL is older than `fullRefreshSeconds` (relying parties that read
 * only full CRLs — a broker's `crlfile` — learn of a revocation within that); a delta when there is
 * none on the scope's delta base, when revocations wait, or when half its validity is gone. A full
 * CRL is made with a delta against the base in one snapshot, under one number (RFC 5280 §5.2.3).
 * The delta base moves to a new full CRL once a day (`deltaBaseSeconds`), so a relying party that
 * reads deltas fetches the full CRL about daily and a small delta in between, however often full
 * CRLs are remade. The `crl-publisher` task asks every `crlPublisherSeconds`; `keyfleet crl
 * publish` publishes at once.
 */
import type { AuditLog } from "../audit/index.js";
import { KeyfleetError, quoted } from "../domain/index.js";
import type { Outbox } from "../events/index.js";
import type { Logger } from "../logger.js";
import { checkCrlSignature, readCertificate, readCrlHeader } from "../pki/index.js";
import { crlRepository, type DeltaBaseRow, type IssuerRow, type PublishedCrlRow } from "../store/index.js";
import { artefactOf, type Artefact, type ArtefactStore } from "./artefact-store.js";
import { produceCrls, type CrlOrder, type CrlProducerDeps, type ProducedCrl } from "./crl-producer.js";
import { crlPath, type CrlKind, type CrlScope } from "./urls.js";

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
/** How long a full CRL stays the base of a scope's deltas. */
export const deltaBaseSeconds = 24 * 3600;
/** A base behind by more status changes than this is moved to the next full CRL: a delta is to stay small. */
export const deltaBaseMaxChanges = 10_000;

/** What a scope's newest CRLs are, as `due` weighs them. */
export interface PublishedState {
  readonly full: Pick<PublishedCrlRow, "number" | "this_update" | "next_update"> | undefined;
  readonly delta: Pick<PublishedCrlRow, "base_number" | "this_update" | "next_update"> | undefined;
  readonly base: Pick<DeltaBaseRow, "number"> | undefined;
  /** Whether a status changed that the full CRL's snapshot did not see. */
  readonly changedSinceFull: boolean;
  /** Whether a status changed that the delta's snapshot did not see. */
  readonly changedSinceDelta: boolean;
}

/** Which CRLs of a scope are due now (a full one comes with its delta). */
export function due(state: PublishedState, now: Date): CrlKind[] {
  const { full, delta, base } = state;
  const halfGone = (row: { this_update: Date; next_update: Date }) =>
    now.getTime() >= (row.this_update.getTime() + row.next_update.getTime()) / 2;
  const age = (row: { this_update: Date }) => (now.getTime() - row.this_update.getTime()) / 1000;
  if (!full || halfGone(full) || (state.changedSinceFull && age(full) >= fullRefreshSeconds)) {
    return ["full", "delta"];
  }
  if (
    !delta ||
    !base ||
    Number(delta.base_number) !== Number(base.number) ||
    state.changedSinceDelta ||
    halfGone(delta)
  ) {
    return ["delta"];
  }
  return [];
}

/**
 * Whether a full CRL made now becomes the scope's delta base (pure): when there is none, when the
 * base is a day old, or when more status changes than `deltaBaseMaxChanges` wait since it (a
 * delta as large as a full CRL saves a relying party nothing). The delta made with it is then the
 * next one, on the new base.
 */
export function movesBase(
  base: Pick<DeltaBaseRow, "this_update"> | undefined,
  changesSinceBase: number | undefined,
  now: Date,
): boolean {
  if (!base) return true;
  if (now.getTime() - base.this_update.getTime() >= deltaBaseSeconds * 1000) return true;
  return (changesSinceBase ?? 0) > deltaBaseMaxChanges;
}

/** The scopes of an issuer: one per CRL shard. */
const scopesOf = (issuer: IssuerRow): CrlScope[] =>
  Array.from({ length: issuer.crl_shards }, (_, shard) => ({ issuerId: issuer.id, shard }));

export function crlPublisher(deps: CrlPublisherDeps) {
  const db = () => crlRepository(deps.database.db);
  let timer: NodeJS.Timeout | undefined;

  /**
   * Publishes what `kinds` asks of one scope: a full CRL (with a delta against the delta base,
   * when there is one), then a delta on the current base unless one was just made. Returns what
   * was kept (a CRL beaten by a newer one of its kind is not).
   */
  async function publishScope(scope: CrlScope, kinds: readonly CrlKind[], actor: string) {
    const rows = db();
    const url = await deps.publicUrl();
    const kept: ProducedCrl[] = [];
    if (kinds.includes("full")) {
      const [full, base] = [await rows.published(scope, "full"), await rows.deltaBase(scope)];
      const rolls = movesBase(
        base,
        base && (await rows.changesAfter(scope, base.snapshot, deltaBaseMaxChanges + 1)),
        deps.clock.now(),
      );
      const crls = await produceCrls(deps, scope, url, {
        full: true,
        base: rolls || !base ? undefined : { number: BigInt(base.number), snapshot: base.snapshot },
        keptSince: full?.this_update,
      });
      kept.push(...(await keep(crls, actor, rolls)));
    }
    // A delta on the current base, unless one came with the full CRL. Where the full CRL moved the
    // base and a delta on the old one is published (valid until its nextUpdate), the next round
    // makes it (due): a delta made a moment after a full CRL would not be one issued with it.
    const deltaKept = kept.some((crl) => crl.kind === "delta");
    const moved = kept.some((crl) => crl.kind === "full") && !deltaKept;
    const servedDelta = moved ? await rows.published(scope, "delta") : undefined;
    const waits = servedDelta !== undefined && servedDelta.next_update > deps.clock.now();
    if (kinds.includes("delta") && !deltaKept && !waits) {
      const [full, base] = [await rows.published(scope, "full"), await rows.deltaBase(scope)];
      if (!full || !base) {
        throw new KeyfleetError(
          "not-found",
          `CA ${quoted(scope.issuerId)} has no full CRL${scope.shard ? ` for shard ${scope.shard}` : ""} for a delta to build on`,
        );
      }
      const order: CrlOrder = {
        full: false,
        base: { number: BigInt(base.number), snapshot: base.snapshot },
        keptSince: full.this_update,
      };
      kept.push(...(await keep(await produceCrls(deps, scope, url, order), actor, false)));
    }
    return kept;
  }

  /**
   * Keeps each CRL unless a newer one of its kind was kept meanwhile (then it is neither served,
   * written nor announced), serves it and writes its file, then announces it, all in one
   * transaction; the full CRL becomes the scope's delta base when `rollBase`.
   */
  async function keep(
    crls: readonly ProducedCrl[],
    actor: string,
    rollBase: boolean,
  ): Promise<ProducedCrl[]> {
    const issuer = await deps.issuers.byId(crls[0]!.issuerId);
    const spki = readCertificate(issuer!.certificate).subjectPublicKeyInfo;
    for (const crl of crls) {
      if (checkCrlSignature(crl.der, spki) !== "good") {
        throw new KeyfleetError(
          "internal",
          `CRL ${crl.number} of CA ${crl.issuerId} does not verify under its key; not published`,
        );
      }
    }
    return deps.database.transaction(async (tx) => {
      const rows = crlRepository(tx);
      const kept: ProducedCrl[] = [];
      for (const crl of crls) {
        const row = {
          issuer_id: crl.issuerId,
          shard: crl.shard,
          kind: crl.kind,
          number: crl.number,
          base_number: crl.baseNumber,
          snapshot: crl.snapshot,
          this_update: crl.thisUpdate,
          next_update: crl.nextUpdate,
          entries: crl.entries,
          size: crl.der.length,
        };
        if (!(await rows.keep(row, crl.der))) continue;
        if (crl.kind === "full" && rollBase) {
          await rows.keepDeltaBase({
            issuer_id: crl.issuerId,
            shard: crl.shard,
            number: crl.number,
            snapshot: crl.snapshot,
            this_update: crl.thisUpdate,
          });
        }
        // Served and written under the row's lock, before the event exists: a consumer told of the
        // CRL finds its file, and a later CRL, which waits for this lock, is always written after it.
        await deps.artefacts.put(
          crlPath(crl, crl.kind),
          artefactOf(crl.der, crl.thisUpdate, crl.nextUpdate, crl.number),
        );
        const facts = {
          issuerId: crl.issuerId,
          shard: crl.shard,
          kind: crl.kind,
          number: crl.number.toString(),
          baseNumber: crl.baseNumber?.toString() ?? null,
          entries: crl.entries,
          thisUpdate: crl.thisUpdate.toISOString(),
          nextUpdate: crl.nextUpdate.toISOString(),
        };
        const subject = `ca:${crl.issuerId}`;
        const [position] = await deps.audit.append(tx, [
          { type: "crl.published", actor, subject, details: facts, time: crl.thisUpdate },
        ]);
        await deps.outbox.publish(tx, [
          { position: position!, type: "crl.published", subject, payload: facts },
        ]);
        kept.push(crl);
      }
      return kept;
    });
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
   * Brings this process's served CRLs and CA certificates, and their files in its data directory,
   * up to the database's (what other nodes published); reads the bytes only of what changed. A CA
   * certificate never changes: it is written once.
   */
  async function sync(): Promise<void> {
    for (const issuer of await deps.issuers.list()) {
      const name = `ca/${issuer.id}.cer`;
      if (!deps.artefacts.get(name))
        await deps.artefacts.put(name, artefactOf(issuer.certificate, issuer.not_before, null));
    }
    const rows = db();
    for (const p of await rows.publishedNumbers()) {
      const scope = { issuerId: p.issuer_id, shard: p.shard };
      const name = crlPath(scope, p.kind);
      const served = deps.artefacts.get(name);
      if (served && served.number >= BigInt(p.number)) continue;
      // The row and its bytes from one snapshot: a newer CRL kept meanwhile replaces both.
      const kept = await deps.database.transaction(async (tx) => {
        const snapshot = crlRepository(tx);
        await snapshot.oneSnapshot();
        const row = await snapshot.published(scope, p.kind);
        return row && { row, der: await snapshot.bytes(row) };
      });
      if (kept) {
        const { row, der } = kept;
        await deps.artefacts.put(name, artefactOf(der, row.this_update, row.next_update, BigInt(row.number)));
      }
    }
  }

  return {
    /**
     * Publishes CRLs now (`keyfleet crl publish`): a full CRL and its delta of every scope of
     * every living CA, or of `issuerId` only; returns them, each scope's full before its delta.
     */
    async publishNow(actor: string, issuerId?: string): Promise<ProducedCrl[]> {
      const issuers = issuerId === undefined ? await livingIssuers() : [await issuerOf(issuerId)];
      const published: ProducedCrl[] = [];
      for (const scope of issuers.flatMap(scopesOf)) {
        published.push(...(await publishScope(scope, ["full", "delta"], actor)));
      }
      return published;
    },

    /**
     * The newest published full CRL of every scope of every living CA, as the database keeps them
     * (what a broker's CRL bundle holds); refused while one of them has none yet.
     */
    async newestFull(): Promise<{ row: PublishedCrlRow; der: Uint8Array }[]> {
      const issuers = await livingIssuers();
      // Rows and bytes from one snapshot: a newer CRL kept meanwhile replaces both.
      return deps.database.transaction(async (tx) => {
        const snapshot = crlRepository(tx);
        await snapshot.oneSnapshot();
        const kept = [];
        for (const scope of issuers.flatMap(scopesOf)) {
          const row = await snapshot.published(scope, "full");
          if (!row) {
            throw new KeyfleetError(
              "not-found",
              `CA ${quoted(scope.issuerId)} has published no CRL${scope.shard ? ` for shard ${scope.shard}` : ""} yet: run \`keyfleet crl publish\``,
            );
          }
          kept.push({ row, der: await snapshot.bytes(row) });
        }
        return kept;
      });
    },

    /**
     * The `crl-publisher` task: every living CA's CRLs that are due. A scope that fails (its CA's
     * key store unreachable) does not hold up the others; the first failure is thrown at the end.
     */
    async publishDue(): Promise<ProducedCrl[]> {
      const published: ProducedCrl[] = [];
      let failure: unknown;
      for (const scope of (await livingIssuers()).flatMap(scopesOf)) {
        try {
          const rows = db();
          const full = await rows.published(scope, "full");
          const delta = await rows.published(scope, "delta");
          const state: PublishedState = {
            full,
            delta,
            base: await rows.deltaBase(scope),
            changedSinceFull: full !== undefined && (await rows.changesAfter(scope, full.snapshot, 1)) > 0,
            changedSinceDelta: delta !== undefined && (await rows.changesAfter(scope, delta.snapshot, 1)) > 0,
          };
          const kinds = due(state, deps.clock.now());
          if (kinds.length > 0) published.push(...(await publishScope(scope, kinds, "system")));
        } catch (e) {
          failure ??= e;
        }
      }
      if (failure !== undefined) throw failure;
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
