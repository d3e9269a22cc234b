/**
 * The OCSP responder (RFC 6960, RFC 5019 profile). Each CertID is matched to one of our CAs by its
 * issuer hashes, in memory; its response is signed once and kept (ocsp-cache.ts), so a request
 * that hits the cache reads no database and signs nothing. What is answered:
 *
 * - a certificate we issued: good, or revoked with its time and reason (a hold is revoked with
 *   certificateHold, §2.2);
 * - a serial the CA never issued: `unknown`, never good (§2.2). Every certificate is recorded
 *   before it is returned (ca/issuance.ts), so "not in the table" is "never issued"; `unknown`
 *   says so without the extended-revoked extension (§4.4.8) that a "revoked" answer would need,
 *   and relying parties treat it as not good all the same;
 * - an issuer that is not ours: `unauthorized` (§2.3); a request naming two of our issuers too,
 *   since no one responder may speak for both;
 * - a malformed or oversize request: `malformedRequest`; the database unreachable on a cache
 *   miss: `tryLater`. Never an exception for the HTTP layer to turn into a 500.
 *
 * A request with a nonce (RFC 9654) gets a response signed for it, from the cached
 * SingleResponses, with the nonce echoed (openssl checks it by default); without one it gets the
 * pre-signed bytes; `preSigned` finds those bytes synchronously, for an HTTP fast path that answers
 * a repeated request before any framework work (http/ocsp-fast-path.ts). Responses are valid for
 * `validitySeconds`; `refresh` (a timer in each process, since each holds its own cache) reloads
 * the CAs and their responders and re-signs what is due (ocsp-refresh.ts).
 * While the database is down nothing is re-signed: cached responses are served until their
 * nextUpdate, then `tryLater`.
 */
import type { KeyStore } from "../crypto/index.js";
import { isKeyfleetError, type Clock } from "../domain/index.js";
import type { Logger } from "../logger.js";
import {
  ocspIssuerHashes,
  ocspStatusResponse,
  readOcspRequest,
  serialToHex,
  writeOcspResponse,
  type CertId,
  type OcspRequest,
} from "../pki/index.js";
import {
  ocspRepository,
  type CertificateStatusRow,
  type Database,
  type IssuerRepository,
} from "../store/index.js";
import { OcspCache, defaultCacheEntries, type CachedResponse } from "./ocsp-cache.js";
import type { OcspDelegates } from "./ocsp-delegate.js";
import { refreshEntries } from "./ocsp-refresh.js";
import { signEntry, signingOf, statusOf, type Signing } from "./ocsp-signing.js";

/** How long a response is good for (nextUpdate − thisUpdate): how long a database outage is survived, at least half of it. */
export const ocspValiditySeconds = 24 * 3600;
/** How often each process refreshes its cache. */
export const ocspRefreshSeconds = 30;

export interface OcspAnswer {
  readonly der: Uint8Array;
  /** A pre-signed response: what HTTP caches may know of it (RFC 5019 §6.2). */
  readonly cached?: Pick<CachedResponse, "thisUpdate" | "nextUpdate" | "etag"> | undefined;
}

export interface OcspResponderDeps {
  readonly database: Database;
  readonly issuers: IssuerRepository;
  readonly keyStore: KeyStore;
  readonly delegates: OcspDelegates;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly validitySeconds?: number;
  readonly maxEntries?: number;
}

const answers = {
  malformedRequest: { der: ocspStatusResponse("malformedRequest") },
  tryLater: { der: ocspStatusResponse("tryLater") },
  unauthorized: { der: ocspStatusResponse("unauthorized") },
  internalError: { der: ocspStatusResponse("internalError") },
} as const;

class LookupFailed extends Error {}

const latin1 = (b: Uint8Array): string =>
  Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString("latin1");
const hex = (b: Uint8Array): string => Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString("hex");
const issuerKey = (hash: string, nameHash: Uint8Array, keyHash: Uint8Array) =>
  `${hash}:${hex(nameHash)}:${hex(keyHash)}`;

export function ocspResponder(deps: OcspResponderDeps) {
  const validity = (deps.validitySeconds ?? ocspValiditySeconds) * 1000;
  const statuses = ocspRepository(deps.database.db);
  const cache = new OcspCache(deps.maxEntries ?? defaultCacheEntries);
  const pending = new Map<string, Promise<CachedResponse>>();
  let signers = new Map<string, Signing>(); // by issuerKey(), both hashes of each CA
  let answered = new Set<string>(); // the ids of the CAs in `signers`
  let loaded: Promise<void> | undefined;
  let timer: NodeJS.Timeout | undefined;
  /** The snapshot whose status changes this process has acted on (pg_snapshot, as text); taken at the first load. */
  let cursor: string | undefined;

  /** The CAs and who signs for each, read again; a CA whose key cannot sign is left out (unauthorized). */
  async function load(): Promise<void> {
    // Before anything is cached: every change after this is seen by the next refresh.
    cursor ??= await statuses.currentSnapshot();
    const next = new Map<string, Signing>();
    for (const row of await deps.issuers.list()) {
      let signing: Signing;
      try {
        signing = await signingOf(row, deps);
      } catch (e) {
        deps.logger.warn(
          { err: e, issuer: row.id },
          "OCSP: no key signs for this CA; it is answered unauthorized",
        );
        continue;
      }
      const hashes = ocspIssuerHashes(row.certificate);
      for (const hash of ["sha1", "sha256"] as const) {
        next.set(issuerKey(hash, hashes[hash].nameHash, hashes[hash].keyHash), signing);
      }
    }
    signers = next;
    answered = new Set([...next.values()].map((s) => s.issuerId));
  }

  /** The cached response under `key` while it is valid and its CA is still answered for. */
  function fresh(key: string): CachedResponse | undefined {
    const hit = cache.get(key);
    if (!hit || deps.clock.now().getTime() >= hit.nextUpdate.getTime()) return undefined;
    return answered.has(hit.issuerId) ? hit : undefined;
  }

  function ensureLoaded(): Promise<void> {
    loaded ??= load().catch((e: unknown) => {
      loaded = undefined; // the next request tries again
      throw e;
    });
    return loaded;
  }

  /** The cached response for one CertID, or one read and signed now (one at a time per CertID). */
  function entryFor(signing: Signing, id: CertId): Promise<CachedResponse> {
    const key = latin1(id.der);
    const hit = fresh(key);
    if (hit) return Promise.resolve(hit);
    let made = pending.get(key);
    if (!made) {
      made = (async () => {
        const serial = serialToHex(id.serial);
        let row: CertificateStatusRow | undefined;
        try {
          row = (await statuses.statuses(signing.issuerId, [serial])).get(serial);
        } catch (e) {
          throw new LookupFailed("the database did not answer", { cause: e });
        }
        const entry = await signEntry(
          signing,
          { certId: id.der, serial, status: statusOf(row) },
          deps.clock.now(),
          validity,
        );
        cache.set(key, entry);
        return entry;
      })().finally(() => pending.delete(key));
      pending.set(key, made);
    }
    return made;
  }

  async function respond(request: OcspRequest): Promise<OcspAnswer> {
    const found = request.certIds.map((id) =>
      signers.get(issuerKey(id.hashAlgorithm, id.issuerNameHash, id.issuerKeyHash)),
    );
    const signing = found[0];
    if (!signing || found.some((s) => s !== signing)) return answers.unauthorized;
    if (request.certIds.length === 1 && request.nonce === undefined) {
      const entry = await entryFor(signing, request.certIds[0]!);
      return { der: entry.response, cached: entry };
    }
    const entries = await Promise.all(request.certIds.map((id) => entryFor(signing, id)));
    const der = await writeOcspResponse(signing.responder, {
      producedAt: deps.clock.now(),
      responses: entries.map((e) => e.single),
      nonce: request.nonce,
    });
    return { der };
  }

  /**
   * Reloads the CAs and their responders and re-signs what is due (ocsp-refresh.ts); returns how
   * many responses were re-signed. Throws when the database is unreachable, leaving the cache as it was.
   */
  async function refresh(): Promise<number> {
    await load();
    loaded = Promise.resolve();
    const refreshed = await refreshEntries(
      { database: deps.database, statuses, cache, clock: deps.clock, validityMs: validity },
      [...new Set(signers.values())],
      cursor!,
    );
    cursor = refreshed.cursor;
    return refreshed.resigned;
  }

  /** The cache key of the CertID that `der` asks about, when a pre-signed response may answer it (one CertID of ours, no nonce). */
  function cacheableKey(der: Uint8Array): string | undefined {
    let request: OcspRequest;
    try {
      request = readOcspRequest(der);
    } catch {
      return undefined; // answer() says malformedRequest
    }
    const id = request.certIds[0]!;
    if (request.certIds.length !== 1 || request.nonce !== undefined) return undefined;
    if (!signers.has(issuerKey(id.hashAlgorithm, id.issuerNameHash, id.issuerKeyHash))) return undefined;
    return latin1(id.der);
  }

  return {
    /** The DER OCSPResponse for a DER OCSPRequest: always an answer, never a throw. */
    async answer(der: Uint8Array): Promise<OcspAnswer> {
      let request: OcspRequest;
      try {
        request = readOcspRequest(der);
      } catch (e) {
        if (isKeyfleetError(e, "malformed-request")) return answers.malformedRequest;
        throw e;
      }
      try {
        await ensureLoaded();
        return await respond(request);
      } catch (e) {
        if (e instanceof LookupFailed || !loaded) {
          deps.logger.warn(
            { err: e },
            "OCSP: the database is unreachable; answering tryLater for what is not cached",
          );
          return answers.tryLater;
        }
        deps.logger.error({ err: e }, "OCSP: answering failed");
        return answers.internalError;
      }
    },

    /**
     * The pre-signed response that `answer(der)` would give, if one is cached and valid; undefined
     * for everything else (a miss, a nonce, several CertIDs, a malformed request), which `answer`
     * handles. Synchronous: no database, no signing.
     */
    preSigned(der: Uint8Array): CachedResponse | undefined {
      const request = latin1(der);
      let key = cache.keyOfRequest(request);
      if (key === undefined) {
        key = cacheableKey(der);
        if (key === undefined) return undefined;
        cache.rememberRequest(request, key);
      }
      return fresh(key);
    },

    refresh,

    /** What /readyz reports: how many responses are cached and until when the earliest is valid. */
    cacheState(): { readonly entries: number; readonly validUntil: Date | undefined } {
      let earliest: number | undefined;
      for (const [, e] of cache.entries()) {
        const t = e.nextUpdate.getTime();
        if (earliest === undefined || t < earliest) earliest = t;
      }
      return { entries: cache.size, validUntil: earliest === undefined ? undefined : new Date(earliest) };
    },

    /** Starts this process's refresh timer (not kept alive by it). */
    start(): void {
      if (timer) return;
      timer = setInterval(() => {
        refresh().catch((e: unknown) =>
          deps.logger.warn({ err: e }, "OCSP: refresh failed; serving from cache"),
        );
      }, ocspRefreshSeconds * 1000);
      timer.unref();
    },

    stop(): void {
      if (timer) clearInterval(timer);
      timer = undefined;
    },
  };
}

export type OcspResponder = ReturnType<typeof ocspResponder>;
