/**
 * Hardware identities unique in the database itself (issue 15), and device groups.
 *
 * A serial, an IDevID (the SHA-256 of its DER, computed by the database) and the IDevID's public
 * key (the SHA-256 of its SubjectPublicKeyInfo) are each unique across tenants and manufacturers: a
 * device certificate names its device by the serial alone (CN and serialNumber, ca/device-identity),
 * and brokers map a CN to a device, so one serial must be one device. The indexes span decommissioned devices
 * too: their rows are kept forever and their identities never come back (the tombstone rule), so
 * a registration racing a finalize cannot slip between a check and the state change. Each
 * (tenant, group) a device names has a row in device_groups.
 */
import { X509Certificate, createHash } from "node:crypto";
import { sql, type Kysely } from "kysely";

const statements = [
  sql`alter table devices
        add column idevid_sha256 bytea generated always as (sha256(idevid)) stored,
        add column public_key_sha256 bytea check (length(public_key_sha256) = 32)`,
  // After the existing rows' digests are filled in (fillPublicKeyDigests).
  sql`alter table devices
        add constraint devices_public_key_of_idevid check ((idevid is null) = (public_key_sha256 is null))`,
  // (tenant, serial) and the plain serial index (0007) give way to the serial alone, unique.
  sql`alter table devices drop constraint devices_tenant_serial_number_key`,
  sql`drop index devices_serial_number`,
  sql`create unique index devices_serial_number on devices (serial_number)`,
  sql`create unique index devices_idevid_sha256 on devices (idevid_sha256) where idevid_sha256 is not null`,
  sql`create unique index devices_public_key_sha256 on devices (public_key_sha256) where public_key_sha256 is not null`,
  sql`create table device_groups (
        tenant     text not null,
        name       text not null,
        created_at timestamptz not null default now(),
        primary key (tenant, name)
      )`,
  sql`insert into device_groups (tenant, name, created_at)
        select tenant, g, min(created_at) from devices, jsonb_array_elements_text(groups) g
        group by tenant, g`,
];

/** Identities two devices already share: the indexes cannot be made until someone decides. */
const duplicates = sql<{ what: string; n: string }>`
  select 'serial ' || serial_number as what, count(*) as n
    from devices group by serial_number having count(*) > 1
  union all
  select 'IDevID sha256 ' || encode(sha256(idevid), 'hex'), count(*)
    from devices where idevid is not null group by sha256(idevid) having count(*) > 1
  limit 5`;

export async function up(db: Kysely<unknown>): Promise<void> {
  const { rows } = await duplicates.execute(db);
  if (rows.length > 0) {
    throw new Error(
      `devices share hardware identities (${rows.map((r) => `${r.what}: ${r.n} devices`).join("; ")}); one physical device must keep one row: remove the others' rows before upgrading`,
    );
  }
  await statements[0]!.execute(db);
  await fillPublicKeyDigests(db);
  for (const statement of statements.slice(1)) await statement.execute(db);
}

/** The SHA-256 of each registered IDevID's public key, a page of devices at a time. */
async function fillPublicKeyDigests(db: Kysely<unknown>): Promise<void> {
  for (let after = ""; ;) {
    const { rows } = await sql<{ id: string; idevid: Uint8Array }>`
      select id, idevid from devices where idevid is not null and id > ${after} order by id limit 1000`.execute(
      db,
    );
    if (rows.length === 0) return;
    const cells = rows.map((r) => [r.id, spkiSha256(r.idevid)]);
    await sql`update devices d set public_key_sha256 = decode(r->>1, 'hex')
      from jsonb_array_elements(${JSON.stringify(cells)}::jsonb) r where d.id = r->>0`.execute(db);
    after = rows[rows.length - 1]!.id;
  }
}

function spkiSha256(idevid: Uint8Array): string {
  const spki = new X509Certificate(idevid).publicKey.export({ type: "spki", format: "der" });
  return createHash("sha256").update(spki).digest("hex");
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`drop table device_groups`.execute(db);
  await sql`drop index devices_public_key_sha256, devices_idevid_sha256, devices_serial_number`.execute(db);
  await sql`create index devices_serial_number on devices (serial_number)`.execute(db);
  await sql`alter table devices drop constraint devices_public_key_of_idevid,
    drop column public_key_sha256, drop column idevid_sha256,
    add constraint devices_tenant_serial_number_key unique (tenant, serial_number)`.execute(db);
}
