/**
 * The issuing CA that signs now, compiled once (issuer name, AKI, URL extensions of each CRL shard
 * precomputed; key loaded once) and reused for every certificate until the hierarchy or its shard
 * count changes (reset).
 */
import type { KeyStore } from "../crypto/index.js";
import { KeyfleetError } from "../domain/index.js";
import { compileIssuer, type IssuerTemplate } from "../pki/index.js";
import type { IssuerRepository, IssuerRow } from "../store/index.js";
import { issuerSigner } from "./issuer-keys.js";
import { shardUrls } from "./urls.js";

export interface ActiveIssuer {
  readonly id: string;
  readonly row: IssuerRow;
  readonly template: IssuerTemplate;
}

export function activeIssuerCache(
  issuers: IssuerRepository,
  keyStore: KeyStore,
  publicUrl: () => Promise<string>,
) {
  let current: Promise<ActiveIssuer> | undefined;
  let currentBase: string | undefined;
  const load = async (base: string): Promise<ActiveIssuer> => {
    const row = await issuers.current("intermediate");
    if (!row)
      throw new KeyfleetError("not-initialized", "the authority has no issuing CA yet: run `keyfleet init`");
    const signer = await issuerSigner(issuers, keyStore, row);
    const template = compileIssuer({
      certificate: row.certificate,
      signer,
      urls: shardUrls(base, row.id, row.crl_shards),
    });
    return { id: row.id, row, template };
  };
  return {
    /** The issuer, compiled again when the public URL changed (by any process; see public-url-setting). */
    async get(): Promise<ActiveIssuer> {
      const base = await publicUrl();
      if (base !== currentBase) current = undefined;
      currentBase = base;
      current ??= load(base).catch((e: unknown) => {
        current = undefined; // a failure (locked key store, no CA yet) is not cached: the next call tries again
        throw e;
      });
      return current;
    },
    reset(): void {
      current = undefined;
    },
  };
}
