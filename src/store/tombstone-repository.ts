/** Tombstones: the hardware identities of decommissioned devices, which never come back (any tenant). */
import { sql, type Kysely } from "kysely";
import type { IdentityTombstonesTable, Tables } from "./schema.js";

export type HardwareIdentity = Pick<IdentityTombstonesTable, "kind" | "value">;

export function tombstoneRepository(db: Kysely<Tables>) {
  return {
    async bury(deviceId: string, identities: readonly HardwareIdentity[], at: Date): Promise<void> {
      if (identities.length === 0) return;
      await db
        .insertInto("identity_tombstones")
        .values(identities.map((i) => ({ ...i, device_id: deviceId, at })))
        .onConflict((oc) => oc.doNothing())
        .execute();
    },
    /** The first of these identities that is tombstoned, if any. */
    async find(identities: readonly HardwareIdentity[]): Promise<IdentityTombstonesTable | undefined> {
      if (identities.length === 0) return undefined;
      // Two arrays, not one OR per identity: a batch registration asks about tens of thousands.
      const kinds = identities.map((i) => i.kind);
      const values = identities.map((i) => i.value);
      return db
        .selectFrom("identity_tombstones")
        .selectAll()
        .where(sql<boolean>`(kind, value) in (select * from unnest(${kinds}::text[], ${values}::text[]))`)
        .limit(1)
        .executeTakeFirst();
    },
  };
}

export type TombstoneRepository = ReturnType<typeof tombstoneRepository>;
