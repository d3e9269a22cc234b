/** A registry on a test database, with the audit log and outbox it writes through. */
import { systemClock, type Clock } from "../../src/domain/index.js";
import { createRegistry, registryDeps, type Registry } from "../../src/registry/index.js";
import type { Database } from "../../src/store/index.js";
import type { Authority } from "../../src/ca/index.js";
import { testAuthority } from "./authority.js";

export function testRegistry(
  database: Database,
  clock: Clock = systemClock,
  authority: Authority = testAuthority(database, clock),
): Registry {
  return createRegistry(registryDeps({ database, clock, issue: authority.issue }));
}

/** Rows of each lifecycle table: what a refused command must leave as it was. */
export async function lifecycleCounts(database: Database): Promise<{
  devices: number;
  lifecycleEvents: number;
  outbox: number;
  auditLeaves: number;
  tombstones: number;
}> {
  const count = async (
    table: "lifecycle_events" | "outbox" | "audit_leaves" | "identity_tombstones" | "devices",
  ) =>
    Number(
      (
        await database.db
          .selectFrom(table)
          .select((eb) => eb.fn.countAll<string>().as("n"))
          .executeTakeFirstOrThrow()
      ).n,
    );
  return {
    devices: await count("devices"),
    lifecycleEvents: await count("lifecycle_events"),
    outbox: await count("outbox"),
    auditLeaves: await count("audit_leaves"),
    tombstones: await count("identity_tombstones"),
  };
}
