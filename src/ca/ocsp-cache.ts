/**
 * The OCSP responder's pre-signed responses, by CertID (its DER, so a SHA-1 and a SHA-256 CertID
 * of one certificate are two entries). Memory is bounded by a count: at `maxEntries` the oldest
 * entry is dropped (insertion order), and a request for it is answered again from the database;
 * an entry is a response of 0.3–1.5 KB (with the responder certificate), so 50,000 entries hold
 * at most ≈ 75 MB. The cache holds signed, public bytes only.
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

  constructor(private readonly maxEntries = defaultCacheEntries) {}

  get size(): number {
    return this.#entries.size;
  }

  get(key: string): CachedResponse | undefined {
    return this.#entries.get(key);
  }

  set(key: string, entry: CachedResponse): void {
    if (!this.#entries.has(key) && this.#entries.size >= this.maxEntries) {
      const oldest = this.#entries.keys().next();
      if (!oldest.done) this.#entries.delete(oldest.value);
    }
    this.#entries.set(key, entry); // an existing key keeps its place
  }

  delete(key: string): void {
    this.#entries.delete(key);
  }

  entries(): IterableIterator<[string, CachedResponse]> {
    return this.#entries.entries();
  }
}
