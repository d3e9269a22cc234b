/**
 * What fleets select devices by (issue 15): firmware version, groups and labels, and the indexes
 * that keep list queries on a million devices fast: each filter with the id order pages walk.
 */
import { sql, type Kysely } from "kysely";

const statements = [
  sql`alter table devices
        add column firmware_version text,
        add column groups jsonb not null default '[]',
        add column labels jsonb not null default '{}'`,
  sql`create index devices_state_id on devices (state, id)`,
  sql`create index devices_tenant_id on devices (tenant, id)`,
  sql`create index devices_region_id on devices (region, id) where region is not null`,
  sql`create index devices_model_id on devices (model, id) where model is not null`,
  sql`create index devices_firmware_id on devices (firmware_version, id) where firmware_version is not null`,
  sql`create index devices_groups on devices using gin (groups jsonb_path_ops)`,
  sql`create index devices_labels on devices using gin (labels jsonb_path_ops)`,
  // "certificate expiring before": a device's certificates by expiry.
  sql`create index certificates_device_not_after on certificates (device_id, not_after) where device_id is not null`,
];

export async function up(db: Kysely<unknown>): Promise<void> {
  for (const statement of statements) await statement.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`drop index certificates_device_not_after`.execute(db);
  for (const index of ["state_id", "tenant_id", "region_id", "model_id", "firmware_id", "groups", "labels"]) {
    await sql.raw(`drop index devices_${index}`).execute(db);
  }
  await sql`alter table devices drop column firmware_version, drop column groups, drop column labels`.execute(
    db,
  );
}
