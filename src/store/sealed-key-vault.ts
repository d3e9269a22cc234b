/** The software key store's ciphertext, kept in the database so every API node sees the same keys. */
import { sql, type Kysely, type Selectable } from "kysely";
import type { SealedKeysTable, Tables } from "./schema.js";

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
  /** Which key-encryption keys seal the stored keys (empty: no key is stored yet). */
  kekSources(): Promise<Set<SealedKeyRecord["kekSource"]>>;
  /**
   * Re-seals, in one transaction, every recorded key sealed under `from` (each with the algorithm
   * its record names, which the seal authenticates). A sealed key no record names is an orphan of a
   * failed start: nothing can use it, so it is counted and left as it is.
   */
  rewrapAll(
    from: SealedKeyRecord["kekSource"],
    rewrap: (key: SealedKeyRecord, algorithm: string) => Promise<SealedKeyRecord>,
  ): Promise<{ rewrapped: number; orphaned: number }>;
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
      return row ? recordOf(row) : undefined;
    },
    async delete(handle) {
      await db.deleteFrom("sealed_keys").where("handle", "=", handle).execute();
    },
    async kekSources() {
      const rows = await db.selectFrom("sealed_keys").select("kek_source").distinct().execute();
      return new Set(rows.map((r) => r.kek_source));
    },
    async rewrapAll(from, rewrap) {
      return db.transaction().execute(async (tx) => {
        const rows = await tx
          .selectFrom("sealed_keys")
          // A software key's record names it `keyfleet-sealed:<handle>` (migration 0024).
          .leftJoin("keys", (join) =>
            join
              .on("keys.store", "=", "software")
              .on(sql<boolean>`keys.uri = 'keyfleet-sealed:' || sealed_keys.handle`),
          )
          .selectAll("sealed_keys")
          .select("keys.algorithm")
          .where("sealed_keys.kek_source", "=", from)
          .forUpdate("sealed_keys")
          .execute();
        let rewrapped = 0;
        for (const row of rows) {
          if (row.algorithm === null) continue;
          const next = await rewrap(recordOf(row), row.algorithm);
          await tx
            .updateTable("sealed_keys")
            .set({
              kek_source: next.kekSource,
              kdf_salt: next.kdfSalt,
              iv: next.iv,
              ciphertext: next.ciphertext,
              tag: next.tag,
            })
            .where("handle", "=", row.handle)
            .execute();
          rewrapped++;
        }
        return { rewrapped, orphaned: rows.length - rewrapped };
      });
    },
  };
}

function recordOf(row: Selectable<SealedKeysTable>): SealedKeyRecord {
  return {
    handle: row.handle,
    kekSource: row.kek_source,
    kdfSalt: row.kdf_salt,
    iv: row.iv,
    ciphertext: row.ciphertext,
    tag: row.tag,
  };
}
