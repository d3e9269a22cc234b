/**
 * Devices by hardware serial alone (issue 13): a certificate not bound to a device may not name a
 * registered device's serial, so issuance looks serials up across tenants.
 */
import { sql, type Kysely } from "kysely";

export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`create index devices_serial_number on devices (serial_number)`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`drop index devices_serial_number`.execute(db);
}
