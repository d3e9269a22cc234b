/** The software key store's ciphertext, kept in the database so every API node sees the same keys. */
import type { Kysely } from "kysely";
import type { Tables } from "./schema.js";

/** Structurally the crypto module's SealedKey; declared here because store does not import crypto. */
export interface SealedKeyRecord {
  readonly handle: string;
  readonly kekSource: "passphrase" | "file";
  readonly kdfSalt: Uint8Array | null;
  readonly iv: Uint8Array;
  readonly ciphertext: Uint8Array;
  readonly tag: Uint8Array;
}

export interface DatabaseSealedKeyVault {
  put(key: SealedKeyRecord): Promise<void>;
  get(handle: string): Promise<SealedKeyRecord | undefined>;
  delete(handle: string): Promise<void>;
}

export function databaseSealedKeyVault(db: Kysely<Tables>): DatabaseSealedKeyVault {
  return {
    async put(key) {
      await db
        .insertInto("sealed_keys")
        .values({
          handle: key.handle,
          kek_source: key.kekSource,
          kdf_salt: key.kdfSalt,
          iv: key.iv,
          ciphertext: key.ciphertext,
          tag: key.tag,
        })
        .execute();
    },
    async get(handle) {
      const row = await db
        .selectFrom("sealed_keys")
        .selectAll()
        .where("handle", "=", handle)
        .executeTakeFirst();
      return row
        ? {
            handle: row.handle,
            kekSource: row.kek_source,
            kdfSalt: row.kdf_salt,
            iv: row.iv,
            ciphertext: row.ciphertext,
            tag: row.tag,
          }
        : undefined;
    },
    async delete(handle) {
      await db.deleteFrom("sealed_keys").where("handle", "=", handle).execute();
    },
  };
}
