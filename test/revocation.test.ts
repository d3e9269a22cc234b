/**
 * Revocation records (issue 17): revoking writes the certificate's status, one `status_changes`
 * row, one audit leaf and one outbox event, together; asking again for the same writes nothing;
 * a revocation is final; a device's holds follow its lifecycle. Over HTTP too, with the refusals a
 * hurried operator meets, each changing nothing. On PGlite and PostgreSQL.
 */
import { readFile } from "node:fs/promises";
import type { FastifyInstance } from "fastify";
import { afterAll, beforeAll, expect, test } from "vitest";
import { ensureInitialized } from "../src/first-run.js";
import { buildHttpApp } from "../src/http/index.js";
import { systemCaller, type Caller } from "../src/policy/index.js";
import { testApp, type TestApp } from "./support/app.js";
import { forEachDatabase } from "./support/databases.js";
import { opensslCsr, workdir, type Workdir } from "./support/openssl.js";

forEachDatabase("revocation records", (kind) => {
  let t: TestApp;
  let dir: Workdir;
  let http: FastifyInstance;
  let admin: string;

  const clientCertificate = async (cn: string) => {
    const csr = await opensslCsr(dir, "p256", `/CN=${cn}`);
    return t.app.devices.issue({ csr, profile: "client" }, systemCaller);
  };
  const deviceCertificate = async (serialNumber: string, tenant = "default") => {
    const id = (await t.app.devices.register({ serialNumber, tenant }, systemCaller)).id;
    const csr = await opensslCsr(dir, "p256", `/CN=${serialNumber}`);
    const issued = await t.app.devices.issue({ csr, deviceId: id }, systemCaller);
    await t.app.devices.apply(id, { kind: "confirm" }, systemCaller, {
      evidence: [{ kind: "proof-of-possession", ref: "test" }],
    });
    return { id, serial: issued.serial };
  };
  /** Everything a revocation writes, to compare before and after a refusal. */
  const written = async () => {
    const db = t.db.database.db;
    const count = async (table: "status_changes" | "audit_leaves" | "outbox") =>
      Number(
        (
          await db
            .selectFrom(table)
            .select((eb) => eb.fn.countAll<string>().as("n"))
            .executeTakeFirstOrThrow()
        ).n,
      );
    const statuses = await db
      .selectFrom("certificates")
      .select(["serial", "status", "revocation_reason"])
      .orderBy("serial")
      .execute();
    return {
      changes: await count("status_changes"),
      leaves: await count("audit_leaves"),
      events: await count("outbox"),
      statuses,
    };
  };
  const changesOf = (serial: string) =>
    t.db.database.db
      .selectFrom("status_changes")
      .selectAll()
      .where("serial", "=", serial)
      .orderBy("seq")
      .execute();
  const revoke = (serial: string, reason: string, caller: Caller = systemCaller, options = {}) =>
    t.app.devices.changeCertificateStatus(
      serial,
      { action: "revoke", reason: reason as "keyCompromise" },
      caller,
      options,
    );

  beforeAll(async () => {
    t = await testApp(kind);
    const run = await ensureInitialized(t.app, { algorithm: "p256" });
    admin = (await readFile(run.adminTokenFile!, "utf8")).trim();
    dir = await workdir();
    http = await buildHttpApp(t.app, "full");
  });
  afterAll(async () => {
    await http?.close();
    await dir?.dispose();
    await t?.dispose();
  });

  test("a revocation writes the status, its record, an audit leaf and an event; the same again writes nothing", async () => {
    const issued = await clientCertificate("revoke-me");
    const compromised = new Date(Date.now() - 3600_000);
    const before = await written();
    const first = await revoke(issued.serial, "keyCompromise", systemCaller, {
      invalidityDate: compromised,
      comment: "laptop stolen",
    });
    expect(first.changed).toBe(true);
    expect(first.certificate).toMatchObject({
      status: "revoked",
      revocation: { reason: "keyCompromise", invalidityDate: new Date(Math.floor(compromised.getTime())) },
    });
    const after = await written();
    expect(after.changes - before.changes).toBe(1);
    expect(after.leaves - before.leaves).toBe(1);
    expect(after.events - before.events).toBe(1);
    const [record] = await changesOf(issued.serial);
    expect(record).toMatchObject({ status: "revoked", reason: "keyCompromise", actor: "system" });
    expect(record!.invalidity_date?.getTime()).toBe(compromised.getTime());
    const entries = await t.app.audit.entries(after.leaves - 1, 1);
    expect(entries[0]!.entry).toMatchObject({
      type: "certificate.revoked",
      subject: `certificate:${issued.serial}`,
      details: { reason: "keyCompromise", from: "good", to: "revoked", comment: "laptop stolen" },
    });
    const feed = await t.app.events.feed(after.leaves - 2, 1); // the event's position is its leaf's index
    expect(feed.items[0]).toMatchObject({
      type: "certificate.revoked",
      subject: `certificate:${issued.serial}`,
    });

    const again = await revoke(issued.serial, "keyCompromise");
    expect(again.changed).toBe(false);
    expect(await written()).toEqual(after);
  });

  test("a revocation is final: another reason, a hold, a release are refused and change nothing", async () => {
    const issued = await clientCertificate("final");
    await revoke(issued.serial, "superseded");
    const before = await written();
    await expect(revoke(issued.serial, "keyCompromise")).rejects.toMatchObject({
      code: "conflict",
      message: expect.stringMatching(/was revoked \(superseded\) at .*: a revocation is final/),
    });
    await expect(revoke(issued.serial, "certificateHold")).rejects.toMatchObject({ code: "conflict" });
    await expect(
      t.app.devices.changeCertificateStatus(issued.serial, { action: "release" }, systemCaller),
    ).rejects.toMatchObject({ code: "conflict" });
    expect(await written()).toEqual(before);
  });

  test("a hold is lifted, or becomes a revocation that keeps the hold's time", async () => {
    const issued = await clientCertificate("held");
    const held = await revoke(issued.serial, "certificateHold");
    expect(held.certificate).toMatchObject({ status: "hold", revocation: { reason: "certificateHold" } });
    const released = await t.app.devices.changeCertificateStatus(
      issued.serial,
      { action: "release" },
      systemCaller,
    );
    expect(released.certificate).toMatchObject({ status: "good", revocation: null });
    const again = await t.app.devices.changeCertificateStatus(
      issued.serial,
      { action: "release" },
      systemCaller,
    );
    expect(again.changed).toBe(false);

    const reheld = await revoke(issued.serial, "certificateHold");
    const revoked = await revoke(issued.serial, "cessationOfOperation");
    expect(revoked.certificate.revocation!.revokedAt).toEqual(reheld.certificate.revocation!.revokedAt);
    expect((await changesOf(issued.serial)).map((c) => [c.status, c.reason])).toEqual([
      ["hold", "certificateHold"],
      ["good", null],
      ["hold", "certificateHold"],
      ["revoked", "cessationOfOperation"],
    ]);
  });

  test("a device's holds follow its lifecycle: holding or releasing its certificate by hand is refused; suspend records them", async () => {
    const { id, serial } = await deviceCertificate("SN-REV-DEVICE");
    const before = await written();
    await expect(revoke(serial, "certificateHold")).rejects.toMatchObject({
      code: "invalid-transition",
      message: expect.stringContaining(`keyfleet device suspend ${id}`),
    });
    expect(await written()).toEqual(before);

    await t.app.devices.apply(id, { kind: "suspend" }, { ...systemCaller, actor: "cli:ops" });
    expect((await changesOf(serial)).map((c) => [c.status, c.reason, c.actor])).toEqual([
      ["hold", "certificateHold", "cli:ops"],
    ]);
    await expect(
      t.app.devices.changeCertificateStatus(serial, { action: "release" }, systemCaller),
    ).rejects.toMatchObject({
      code: "invalid-transition",
      message: expect.stringContaining("keyfleet device resume"),
    });
    // A held device certificate may still be revoked for good.
    const revoked = await revoke(serial, "keyCompromise");
    expect(revoked.certificate.status).toBe("revoked");
  });

  test("refusals: unknown or malformed serial, an invalidity date in the future or with a hold, a role or scope without the right", async () => {
    const issued = await clientCertificate("refusals");
    const { serial: deviceSerial } = await deviceCertificate("SN-REV-SCOPED", "globex");
    const before = await written();
    await expect(revoke("7f".repeat(16), "keyCompromise")).rejects.toMatchObject({ code: "not-found" });
    await expect(revoke("not-hex", "keyCompromise")).rejects.toMatchObject({ code: "malformed-request" });
    await expect(
      revoke(issued.serial, "keyCompromise", systemCaller, {
        invalidityDate: new Date(Date.now() + 86_400_000),
      }),
    ).rejects.toMatchObject({ code: "malformed-request", message: expect.stringContaining("in the past") });
    await expect(
      revoke(issued.serial, "certificateHold", systemCaller, { invalidityDate: new Date(Date.now() - 1000) }),
    ).rejects.toMatchObject({ code: "malformed-request" });
    const viewer: Caller = { actor: "token:v", role: "viewer", scopes: {} };
    await expect(revoke(issued.serial, "keyCompromise", viewer)).rejects.toMatchObject({ code: "forbidden" });
    const acme: Caller = { actor: "token:acme", role: "operator", scopes: { tenant: ["acme"] } };
    await expect(revoke(issued.serial, "keyCompromise", acme)).rejects.toMatchObject({ code: "not-found" });
    await expect(revoke(deviceSerial, "keyCompromise", acme)).rejects.toMatchObject({ code: "not-found" });
    expect(await written()).toEqual(before);
    const globex: Caller = {
      actor: "token:globex",
      role: "security-officer",
      scopes: { tenant: ["globex"] },
    };
    expect((await revoke(deviceSerial, "privilegeWithdrawn", globex)).changed).toBe(true);
  });

  test("over HTTP: POST revokes, DELETE lifts a hold; bad reasons and dates are problems", async () => {
    const issued = await clientCertificate("http");
    const as = { authorization: `Bearer ${admin}` };
    const url = `/api/v1/certificates/${issued.serial}/revocation`;
    const bad = await http.inject({ method: "POST", url, headers: as, payload: { reason: "lost" } });
    expect(bad.statusCode).toBe(400);
    expect(bad.headers["content-type"]).toContain("application/problem+json");
    const noDate = await http.inject({
      method: "POST",
      url,
      headers: as,
      payload: { reason: "keyCompromise", invalidityDate: "yesterday" },
    });
    expect(noDate.statusCode).toBe(400);

    const hold = await http.inject({
      method: "POST",
      url,
      headers: as,
      payload: { reason: "certificateHold" },
    });
    expect(hold.statusCode).toBe(200);
    expect(hold.json()).toMatchObject({
      status: "hold",
      changed: true,
      revocation: { reason: "certificateHold" },
    });
    const lift = await http.inject({ method: "DELETE", url, headers: as });
    expect(lift.json()).toMatchObject({ status: "good", changed: true, revocation: null });
    const gone = await http.inject({ method: "POST", url, headers: as, payload: { reason: "superseded" } });
    expect(gone.json()).toMatchObject({ status: "revoked", revocation: { reason: "superseded" } });
    const final = await http.inject({ method: "DELETE", url, headers: as });
    expect(final.statusCode).toBe(409);
    const shown = await http.inject({
      method: "GET",
      url: `/api/v1/certificates/${issued.serial}`,
      headers: as,
    });
    expect(shown.json()).toMatchObject({ status: "revoked", revocation: { reason: "superseded" } });
    const unknown = await http.inject({
      method: "POST",
      url: `/api/v1/certificates/${"0a".repeat(16)}/revocation`,
      headers: as,
      payload: { reason: "keyCompromise" },
    });
    expect(unknown.statusCode).toBe(404);
  });
});
