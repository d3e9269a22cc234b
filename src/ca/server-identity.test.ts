import { X509Certificate, createPrivateKey } from "node:crypto";
import { afterEach, beforeEach, expect, test } from "vitest";
import { testAuthority } from "../../test/support/authority.js";
import { forEachDatabase, testDatabase, type TestDatabase } from "../../test/support/databases.js";
import { openssl, workdir } from "../../test/support/openssl.js";
import { fixedClock } from "../domain/index.js";
import type { Authority } from "./authority.js";

const DAY = 86_400;

test("the server identity is a recorded tls-server certificate that openssl accepts for each name, with its key", async () => {
  const db = await testDatabase("pglite");
  const dir = await workdir();
  try {
    const authority = testAuthority(db.database);
    await authority.init({ algorithm: "p256" });
    const identity = await authority.serverTlsIdentity(["keyfleet.example.test", "10.1.2.3", "[::1]"]);
    const [leafPem, issuingPem, rootPem] = identity.certificateChainPem.match(
      /-----BEGIN CERTIFICATE-----[^-]+-----END CERTIFICATE-----\n/g,
    )!;
    const leaf = new X509Certificate(leafPem!);
    expect(leaf.checkPrivateKey(createPrivateKey(identity.privateKeyPem))).toBe(true);
    expect(leaf.subjectAltName).toBe(
      "DNS:localhost, IP Address:127.0.0.1, IP Address:0:0:0:0:0:0:0:1, DNS:keyfleet.example.test, IP Address:10.1.2.3",
    );
    expect(identity.serial).toBe(leaf.serialNumber);
    expect(identity.notAfter.toISOString()).toBe(new Date(leaf.validTo).toISOString());
    const args = [
      "verify",
      "-x509_strict",
      "-purpose",
      "sslserver",
      "-CAfile",
      await dir.write("root.pem", rootPem!),
      "-untrusted",
      await dir.write("issuing.pem", issuingPem!),
    ];
    const leafFile = await dir.write("leaf.pem", leafPem!);
    for (const check of [
      ["-verify_hostname", "keyfleet.example.test"],
      ["-verify_ip", "10.1.2.3"],
      ["-verify_ip", "::1"],
    ]) {
      expect((await openssl([...args, ...check, leafFile])).stdout).toContain("OK");
    }
    await expect(openssl([...args, "-verify_hostname", "other.example.test", leafFile])).rejects.toThrow(
      /hostname mismatch/,
    );
    const recorded = await authority.certificate(leaf.serialNumber);
    expect(recorded).toMatchObject({ profile: "tls-server", status: "good", deviceId: null });
  } finally {
    await dir.dispose();
    await db.dispose();
  }
});

forEachDatabase("server identity", (kind) => {
  let t: TestDatabase;
  let authority: Authority;
  let clock: ReturnType<typeof fixedClock>;
  const counts = async () => {
    const db = t.database.db;
    const certificates = await db.selectFrom("certificates").select("serial").execute();
    const keys = await db.selectFrom("keys").selectAll().where("purpose", "=", "tls-server").execute();
    const sealed = await db.selectFrom("sealed_keys").select("handle").execute();
    return {
      certificates: certificates.length,
      activeKeys: keys.filter((k) => k.state === "active"),
      destroyedKeys: keys.filter((k) => k.state === "destroyed"),
      sealed: new Set(sealed.map((s) => `keyfleet-sealed:${s.handle}`)), // as key records name them
    };
  };

  beforeEach(async () => {
    clock = fixedClock(new Date().toISOString());
    t = await testDatabase(kind);
    authority = testAuthority(t.database, clock);
    await authority.init({ algorithm: "p256" });
  });
  afterEach(() => t.dispose());

  test("two starts in a row reuse one key and certificate, kept sealed in the key store", async () => {
    const first = await authority.serverTlsIdentity(["keyfleet.example.test"]);
    const before = await counts();
    expect(before.activeKeys).toHaveLength(1);
    expect(before.sealed.has(before.activeKeys[0]!.uri)).toBe(true);
    clock.advance(59 * DAY); // still more than a third of 90 days left
    const second = await authority.serverTlsIdentity(["keyfleet.example.test"]);
    expect(second.serial).toBe(first.serial);
    expect(second.privateKeyPem).toBe(first.privateKeyPem);
    // A start asking for fewer names is covered by the same certificate.
    expect((await authority.serverTlsIdentity([])).serial).toBe(first.serial);
    const after = await counts();
    expect(after.certificates).toBe(before.certificates);
    expect(after.activeKeys.map((k) => k.id)).toEqual(before.activeKeys.map((k) => k.id));
  });

  test("a start past two thirds of the lifetime makes a new key and certificate and destroys the old key", async () => {
    const first = await authority.serverTlsIdentity([]);
    const oldKey = (await counts()).activeKeys[0]!;
    clock.advance(60 * DAY + 1);
    const second = await authority.serverTlsIdentity([]);
    expect(second.serial).not.toBe(first.serial);
    expect(second.privateKeyPem).not.toBe(first.privateKeyPem);
    expect(second.notBefore.getTime()).toBeGreaterThan(first.notBefore.getTime());
    const after = await counts();
    expect(after.activeKeys).toHaveLength(1);
    expect(after.destroyedKeys.map((k) => k.id)).toEqual([oldKey.id]);
    expect(after.destroyedKeys[0]!.destroyed_at).not.toBeNull();
    expect(after.sealed.has(oldKey.uri)).toBe(false);
    expect(await authority.certificate(first.serial)).toMatchObject({ status: "good" }); // expiry, not revocation
  });

  test("a start for a host the certificate does not name, or after it was revoked, makes a new one", async () => {
    const first = await authority.serverTlsIdentity(["a.example.test"]);
    const second = await authority.serverTlsIdentity(["b.example.test"]);
    expect(second.serial).not.toBe(first.serial);
    await t.database.db
      .updateTable("certificates")
      .set({ status: "revoked", revoked_at: clock.now(), revocation_reason: "keyCompromise" })
      .where("serial", "=", second.serial)
      .execute();
    const third = await authority.serverTlsIdentity(["b.example.test"]);
    expect(third.serial).not.toBe(second.serial);
    expect((await counts()).activeKeys).toHaveLength(1);
  });

  test("a host name the profile refuses fails the start and leaves no key behind", async () => {
    const before = await counts();
    await expect(authority.serverTlsIdentity(["bad_host.example"])).rejects.toMatchObject({
      code: "profile-violation",
    });
    const after = await counts();
    expect(after.certificates).toBe(before.certificates);
    expect(after.activeKeys).toEqual([]);
    expect(after.sealed).toEqual(before.sealed);
  });

  test("renewal is due only past two thirds of the lifetime, and then gives a new identity", async () => {
    const served = await authority.serverTlsIdentity([]);
    expect(await authority.renewServerTlsIdentity(served, [])).toBeUndefined();
    clock.advance(59 * DAY);
    expect(await authority.renewServerTlsIdentity(served, [])).toBeUndefined();
    const before = (await counts()).certificates;
    clock.advance(DAY + 1);
    const next = await authority.renewServerTlsIdentity(served, []);
    expect(next?.serial).toBeDefined();
    expect(next!.serial).not.toBe(served.serial);
    expect((await counts()).certificates).toBe(before + 1);
    expect(await authority.renewServerTlsIdentity(next!, [])).toBeUndefined();
  });

  test("renewal switches to a fresh certificate another node already made, rather than making one more", async () => {
    const served = await authority.serverTlsIdentity([]);
    clock.advance(61 * DAY);
    const sibling = await testAuthority(t.database, clock).serverTlsIdentity([]); // another node's start
    const before = (await counts()).certificates;
    const next = await authority.renewServerTlsIdentity(served, []);
    expect(next?.serial).toBe(sibling.serial);
    expect((await counts()).certificates).toBe(before);
  });
});
