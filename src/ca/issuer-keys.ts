/** From an issuer row to a ready signer: the key's metadata is in the database, the key itself in its store. */
import type { KeyRef, KeyStore, Signer } from "../crypto/index.js";
import { KeyfleetError } from "../domain/index.js";
import type { IssuerRepository, IssuerRow, KeyRow } from "../store/index.js";

export function keyRefOf(row: KeyRow): KeyRef {
  return {
    store: row.store,
    handle: row.handle,
    algorithm: row.algorithm as KeyRef["algorithm"],
    publicKey: row.public_key,
  };
}

export async function issuerSigner(
  issuers: IssuerRepository,
  keyStore: KeyStore,
  issuer: IssuerRow,
): Promise<Signer> {
  const key = await issuers.key(issuer.key_id);
  if (!key || key.state !== "active") {
    throw new KeyfleetError("key-not-found", `the key of CA ${issuer.name} (${issuer.key_id}) is not active`);
  }
  if (key.store !== keyStore.kind) {
    throw new KeyfleetError(
      "invalid-configuration",
      `the key of CA ${issuer.name} is in the ${key.store} key store, but Keyfleet is configured with ${keyStore.kind}`,
    );
  }
  return keyStore.signer(keyRefOf(key));
}
