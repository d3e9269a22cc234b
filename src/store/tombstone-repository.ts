/**
 * Tombstones: the record of a decommissioned device's hardware identities, buried when it is
 * finalized. What keeps them from coming back is the devices table's unique indexes (migration
 * 0018), which span decommissioned devices.
 */
import type { Kysely } from "kysely";
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
  };
}

export type TombstoneRepository = ReturnType<typeof tombstoneRepository>;
