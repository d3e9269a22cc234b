/**
 * The OCSP responder's pre-signed responses, by CertID (its DER, so a SHA-1 and a SHA-256 CertID
 * of one certificate are two entries). Memory is bounded by a count: at `maxEntries` the oldest
 * entry is dropped (insertion order), and a request for it is answered again from the database;
 * an entry is a response of 0.3–1.5 KB (with the responder certificate), so 50,000 entries hold
 * at most ≈ 75 MB. The cache holds signed, public bytes only.
 *
 * Beside it, an index from whole request bytes to the CertID they ask about, for requests a
 * pre-signed response answers (one CertID, no nonce): a repeated request is then found without
 * being parsed again. Bounded the same way (≈ 100–200 bytes an entry); it points to a CertID, not
 * to a response, so a re-signed or dropped entry is seen at once.
 */
import type { CertStatus } from "../pki/index.js";

export interface CachedResponse {
  readonly issuerId: string;
  readonly serial: string;
  readonly status: CertStatus;
  /** SingleResponse DER: reused when a nonce asks for a response signed just for it. */
  readonly single: Uint8Array;
  /** The whole pre-signed OCSPResponse, without a nonce. */
  readonly response: Uint8Array;
  readonly thisUpdate: Date;
  readonly nextUpdate: Date;
  /** The responder that signed it (a delegate's serial, or the CA's id). */
  readonly signedBy: string;
  /** Strong HTTP validator of `response` (RFC 9110 §8.8.3). */
  readonly etag: string;
}

export const defaultCacheEntries = 50_000;

export class OcspCache {
  readonly #entries = new Map<string, CachedResponse>();
  readonly #requests = new Map<string, string>();

  constructor(private readonly maxEntries = defaultCacheEntries) {}

  get size(): number {
    return this.#entries.size;
  }

  get(key: string): CachedResponse | undefined {
    return this.#entries.get(key);
  }

  set(key: string, entry: CachedResponse): void {
    bounded(this.#entries, key, this.maxEntries);
    this.#entries.set(key, entry); // an existing key keeps its place
  }

  /** The CertID key a request (its DER as latin1) was found to ask about, if it was seen. */
  keyOfRequest(request: string): string | undefined {
    return this.#requests.get(request);
  }

  rememberRequest(request: string, key: string): void {
    bounded(this.#requests, request, this.maxEntries);
    this.#requests.set(request, key);
  }

  delete(key: string): void {
    this.#entries.delete(key);
  }

  entries(): IterableIterator<[string, CachedResponse]> {
    return this.#entries.entries();
  }
}

/** Makes room for `key` in `map` if it is new and the map is full: the oldest entry goes. */
function bounded(map: Map<string, unknown>, key: string, max: number): void {
  if (map.has(key) || map.size < max) return;
  const oldest = map.keys().next();
  if (!oldest.done) map.delete(oldest.value);
}
