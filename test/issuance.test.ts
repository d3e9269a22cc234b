import { X509Certificate } from "node:crypto";
import { afterAll, afterEach, beforeAll, beforeEach, expect, test } from "vitest";
import type { Authority } from "../src/ca/index.js";
import { deviceRepository } from "../src/store/index.js";
import { forEachDatabase, testDatabase, type TestDatabase } from "./support/databases.js";
import { initializedAuthority, testAuthority } from "./support/authority.js";
import { openssl, opensslCsr, workdir, type Workdir } from "./support/openssl.js";

let dir: Workdir;
let csr: string;
beforeAll(async () => {
  dir = await workdir();
  csr = await opensslCsr(dir, "p256", "/CN=sensor-17");
});
afterAll(() => dir.dispose());

forEachDatabase("issuance", (kind) => {
  let t: TestDatabase;
  let authority: Authority;
  const certificateCount = () =>
    t.database.db
      .selectFrom("certificates")
      .select(t.database.db.fn.countAll<string>().as("n"))
      .executeTakeFirstOrThrow()
      .then((r) => Number(r.n));

  const leafCount = () =>
    t.database.db
      .selectFrom("audit_leaves")
      .select(t.database.db.fn.countAll<string>().as("n"))
      .executeTakeFirstOrThrow()
      .then((r) => Number(r.n));

  beforeEach(async () => {
    t = await testDatabase(kind);
    authority = await initializedAuthority(t.database);
  });
  afterEach(() => t.dispose());

  test("issues a certificate signed by the issuing CA and records it before returning", async () => {
    const issued = await authority.issue({ csr });
    const cert = new X509Certificate(issued.pem);
    const [issuing] = (await authority.chain()).der;
    expect(cert.verify(new X509Certificate(issuing!).publicKey)).toBe(true);
    expect(cert.serialNumber).toBe(issued.serial);
    const stored = await authority.certificate(issued.serial);
    expect(Buffer.from(stored.der).equals(cert.raw)).toBe(true);
    expect(stored.status).toBe("good");
    expect(stored.profile).toBe("client"); // bound to no device: the client profile
  });

  test("finds a certificate by either serial form openssl prints (x509 -serial, x509 -text)", async () => {
    const issued = await authority.issue({ csr });
    const file = await dir.write(`serial-${kind}.pem`, issued.pem);
    const plain = (await openssl(["x509", "-in", file, "-noout", "-serial"])).stdout.trim();
    expect(plain).toBe(`serial=${issued.serial}`);
    const text = (await openssl(["x509", "-in", file, "-noout", "-text"])).stdout;
    const colons = /Serial Number:\s*\n\s*([0-9a-f:]+)\s*\n/.exec(text)![1]!;
    expect(colons).toMatch(/^[0-9a-f]{2}(:[0-9a-f]{2}){15}$/);
    for (const form of [plain.slice("serial=".length), colons, colons.toUpperCase(), `00:${colons}`]) {
      expect((await authority.certificate(form)).fingerprintSha256, form).toBe(issued.fingerprintSha256);
    }
    for (const bad of ["4f::1a", ":4f", "4f:1", "xyz", `${colons}:`, `serial=${issued.serial}`]) {
      await expect(authority.certificate(bad), bad).rejects.toMatchObject({ code: "malformed-request" });
    }
  });

  test("the same request id never yields two certificates", async () => {
    const first = await authority.issue({ csr, requestId: "req-1" });
    const again = await authority.issue({ csr, requestId: "req-1" });
    expect(again.serial).toBe(first.serial);
    const concurrent = await Promise.all(
      Array.from({ length: 5 }, () => authority.issue({ csr, requestId: "req-2" })),
    );
    expect(new Set(concurrent.map((c) => c.serial)).size).toBe(1);
    expect(await certificateCount()).toBe(2 + 2); // two CA certificates + one per request id
  });

  test("refuses a request id reused with a different key, and records nothing", async () => {
    await authority.issue({ csr, requestId: "req-3" });
    const other = await opensslCsr(dir, "p256", "/CN=other");
    const before = await certificateCount();
    await expect(authority.issue({ csr: other, requestId: "req-3" })).rejects.toMatchObject({
      code: "conflict",
    });
    expect(await certificateCount()).toBe(before);
  });

  test("many concurrent requests are group-committed, each recorded exactly once", async () => {
    const issued = await Promise.all(Array.from({ length: 60 }, () => authority.issue({ csr })));
    expect(new Set(issued.map((c) => c.serial)).size).toBe(60);
    expect(await certificateCount()).toBe(62);
  });

  test.each([
    ["malformed DER", () => new Uint8Array([0x30, 0x82, 0x01]), "malformed-request"],
    ["an empty request", () => new Uint8Array(), "malformed-request"],
    [
      "a truncated CSR",
      () => csr.slice(0, csr.length / 2) + "\n-----END CERTIFICATE REQUEST-----\n",
      "malformed-request",
    ],
  ] as const)("refuses %s and records nothing", async (_name, input, code) => {
    const before = await certificateCount();
    await expect(authority.issue({ csr: input() })).rejects.toMatchObject({ code });
    expect(await certificateCount()).toBe(before);
  });

  test("refuses an unknown profile, a CA profile and an over-long validity, recording nothing", async () => {
    const before = await certificateCount();
    await expect(authority.issue({ csr, profile: "nope" })).rejects.toMatchObject({
      code: "unknown-profile",
    });
    await expect(authority.issue({ csr, profile: "issuing-ca" })).rejects.toMatchObject({
      code: "forbidden-extension",
    });
    await expect(authority.issue({ csr, validitySeconds: 10 * 365 * 86400 })).rejects.toMatchObject({
      code: "profile-violation",
    });
    expect(await certificateCount()).toBe(before);
  });

  test("refuses profile device for a certificate bound to no device, recording nothing", async () => {
    const before = await certificateCount();
    await expect(authority.issue({ csr, profile: "device" })).rejects.toMatchObject({
      code: "profile-violation",
      message:
        'profile "device" is for a registered device: name the device (deviceId, --device); a client bound to no device gets profile "client"',
    });
    expect(await certificateCount()).toBe(before);
  });

  test.each([
    [
      "a subject emailAddress (RFC 5280 §4.1.2.6: e-mail goes in an rfc822Name SAN)",
      "/CN=dev-7/emailAddress=ops@example.com",
      /emailAddress is not issued/,
    ],
    ["a right-to-left override in CN", "/CN=dev-7\u202Egpj.exe", /U\+202E/],
    ["a single-label domainComponent", "/DC=example/CN=dev-7", /single-label domain/],
  ])("refuses a CSR with %s, recording nothing", async (_what, subject, message) => {
    const bad = await opensslCsr(dir, "p256", subject, ["-utf8"]);
    const before = await certificateCount();
    await expect(authority.issue({ csr: bad })).rejects.toMatchObject({
      code: "profile-violation",
      message: expect.stringMatching(message),
    });
    expect(await certificateCount()).toBe(before);
  });

  test("binds a certificate to a registered device (802.1AR subject serialNumber, device URI)", async () => {
    await deviceRepository(t.database.db).insertMany([{ id: "dev-1", serial_number: "SN-0042" }]);
    const issued = await authority.issue({ csr, device: { id: "dev-1", serialNumber: "SN-0042" } });
    expect(issued.deviceId).toBe("dev-1");
    expect(issued.subject).toContain("serialNumber=SN-0042");
    expect(issued.sans).toContain("URI:urn:keyfleet:device:dev-1");
    const page = await authority.certificates({ deviceId: "dev-1" });
    expect(page.items.map((c) => c.serial)).toEqual([issued.serial]);
  });

  test("what the registry writes with a certificate fails it alone: nothing of it is recorded", async () => {
    const before = { certificates: await certificateCount(), leaves: await leafCount() };
    const refused = new Error("the device moved on");
    const results = await Promise.allSettled([
      authority.issue({ csr }),
      authority.issue({
        csr,
        recordWith: async () => {
          throw refused;
        },
      }),
      authority.issue({ csr }),
    ]);
    expect(results.map((r) => r.status)).toEqual(["fulfilled", "rejected", "fulfilled"]);
    expect(results[1]).toMatchObject({ reason: refused });
    expect({ certificates: await certificateCount(), leaves: await leafCount() }).toEqual({
      certificates: before.certificates + 2,
      leaves: before.leaves + 2,
    });
  });

  test("lists certificates newest first, paginated by key", async () => {
    const serials: string[] = [];
    for (let i = 0; i < 5; i++) serials.push((await authority.issue({ csr })).serial);
    const first = await authority.certificates({ limit: 3 });
    expect(first.items.map((c) => c.serial)).toEqual(serials.reverse().slice(0, 3));
    const second = await authority.certificates({ limit: 3, after: first.next });
    expect(second.items).toHaveLength(3); // two leaves + the first CA certificate... of 7 rows in all
    const third = await authority.certificates({ limit: 3, after: second.next });
    expect(third.items).toHaveLength(1);
    expect(third.next).toBeUndefined();
  });

  test("a restart keeps every CA and certificate, and issues under the same issuing CA", async () => {
    const issued = await authority.issue({ csr });
    const cas = await authority.cas();
    await t.database.close();
    const reopened = await t.reopen();
    try {
      const again = testAuthority(reopened);
      expect(await again.cas()).toEqual(cas);
      expect((await again.certificate(issued.serial)).fingerprintSha256).toBe(issued.fingerprintSha256);
      const next = await again.issue({ csr });
      expect(next.issuerId).toBe(issued.issuerId);
    } finally {
      await reopened.close();
    }
  });

  test("a wrong passphrase cannot issue, and nothing is recorded", async () => {
    const locked = testAuthority(t.database, undefined, "wrong passphrase");
    const before = await certificateCount();
    await expect(locked.issue({ csr })).rejects.toMatchObject({ code: "key-store-locked" });
    expect(await certificateCount()).toBe(before);
  });

  test("init twice is refused", async () => {
    await expect(authority.init({ algorithm: "p256" })).rejects.toMatchObject({ code: "conflict" });
  });
});

forEachDatabase("initialization", (kind) => {
  test("refuses an organization too long to name a CA, before making any key", async () => {
    const t = await testDatabase(kind);
    try {
      const authority = testAuthority(t.database);
      await expect(authority.init({ algorithm: "p256", organization: "O".repeat(60) })).rejects.toMatchObject(
        { code: "profile-violation" },
      );
      expect(await t.database.db.selectFrom("sealed_keys").selectAll().execute()).toEqual([]);
      expect(await authority.cas()).toEqual([]);
    } finally {
      await t.dispose();
    }
  });

  test("refuses an RSA-2048 CA (device keys only) with unsupported-algorithm, before making any key", async () => {
    const t = await testDatabase(kind);
    try {
      const authority = testAuthority(t.database);
      await expect(authority.init({ algorithm: "rsa2048" })).rejects.toMatchObject({
        code: "unsupported-algorithm",
        message: expect.stringContaining("RSA-2048 is for device keys only"),
      });
      expect(await t.database.db.selectFrom("sealed_keys").selectAll().execute()).toEqual([]);
      expect(await t.database.db.selectFrom("keys").selectAll().execute()).toEqual([]);
      expect(await authority.cas()).toEqual([]);
    } finally {
      await t.dispose();
    }
  });
});
