import { X509Certificate, createPrivateKey } from "node:crypto";
import { afterAll, beforeAll, expect, test } from "vitest";
import { initializedAuthority } from "../../test/support/authority.js";
import { testDatabase, type TestDatabase } from "../../test/support/databases.js";
import { openssl, workdir, type Workdir } from "../../test/support/openssl.js";
import type { Authority } from "./authority.js";

let db: TestDatabase;
let authority: Authority;
let dir: Workdir;
beforeAll(async () => {
  db = await testDatabase("pglite");
  authority = await initializedAuthority(db.database);
  dir = await workdir();
});
afterAll(async () => {
  await dir.dispose();
  await db.dispose();
});

test("the server identity is a recorded tls-server certificate that openssl accepts for each name, with its key", async () => {
  const identity = await authority.serverTlsIdentity(["keyfleet.example.test", "10.1.2.3", "[::1]"]);
  const [leafPem, issuingPem, rootPem] = identity.certificateChainPem.match(
    /-----BEGIN CERTIFICATE-----[^-]+-----END CERTIFICATE-----\n/g,
  )!;
  const leaf = new X509Certificate(leafPem!);
  expect(leaf.checkPrivateKey(createPrivateKey(identity.privateKeyPem))).toBe(true);
  expect(leaf.subjectAltName).toBe(
    "DNS:localhost, IP Address:127.0.0.1, IP Address:0:0:0:0:0:0:0:1, DNS:keyfleet.example.test, IP Address:10.1.2.3",
  );
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
});

test("every start makes a new key", async () => {
  const a = await authority.serverTlsIdentity([]);
  const b = await authority.serverTlsIdentity([]);
  expect(a.privateKeyPem).not.toBe(b.privateKeyPem);
});
