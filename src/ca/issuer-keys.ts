/**
 * From a key record to a ready signer: the key's metadata is in the database, the key itself in the
 * store its URI names, reached through the key-store router (a URI no configured store handles is
 * refused there, naming the settings that configure that store).
 */
import { KeyfleetError, isKeyfleetError } from "../domain/index.js";
import {
  keyStoreKindOf,
  type KeyRef,
  type KeyStore,
  type KeyStoreKind,
  type Signer,
} from "../crypto/index.js";
import type { IssuerRepository, IssuerRow, KeyRow } from "../store/index.js";

export function keyRefOf(row: KeyRow): KeyRef {
  return {
    uri: row.uri,
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
  try {
    return await keyStore.signer(keyRefOf(key));
  } catch (e) {
    if (isKeyfleetError(e, "invalid-configuration") || isKeyfleetError(e, "key-not-found")) {
      throw new KeyfleetError(e.code, `the key of CA ${issuer.name}: ${e.message}`, { cause: e });
    }
    throw e;
  }
}

/**
 * The store of a CA's key, where the keys that speak for it are generated too (its delegated OCSP
 * responder's; the audit log's, by the current issuing CA): in the HSM when the CA's key is.
 */
export async function keyStoreOfIssuer(
  issuers: IssuerRepository,
  issuer: IssuerRow | undefined,
): Promise<KeyStoreKind> {
  const key = issuer && (await issuers.key(issuer.key_id));
  return key ? keyStoreKindOf(key.uri) : "software";
}
