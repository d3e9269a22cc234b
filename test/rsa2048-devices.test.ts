/**
 * RSA-2048 device keys (issue 12): TPM 2.0 EK/AK keys and many secure elements are RSA-2048, so
 * the device profile takes them; CA keys and service keys (tls-server) stay at 3072 bits or more.
 */
import { mkdtemp, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import type { Authority } from "../src/ca/index.js";
import { systemClock } from "../src/domain/index.js";
import { systemCaller } from "../src/policy/index.js";
import { initializedAuthority } from "./support/authority.js";
import { testRegistry } from "./support/registry.js";
import { runCli } from "./support/cli.js";
import { testDatabase, type TestDatabase } from "./support/databases.js";
import { openssl, opensslVerifyChain, opensslCsr, workdir, type Workdir } from "./support/openssl.js";

describe("RSA-2048 device keys", () => {
  let t: TestDatabase;
  let dir: Workdir;
  let authority: Authority;
  const certificateCount = async () =>
    Number(
      (
        await t.database.db
          .selectFrom("certificates")
          .select((eb) => eb.fn.countAll<string>().as("n"))
          .executeTakeFirstOrThrow()
      ).n,
    );

  beforeAll(async () => {
    t = await testDatabase("pglite");
    dir = await workdir();
    authority = await initializedAuthority(t.database, "p256");
    const [issuing, root] = (await authority.chain()).pem.split(/(?<=-----END CERTIFICATE-----\n)/);
    await dir.write("issuing.pem", issuing!);
    await dir.write("root.pem", root!);
  });
  afterAll(async () => {
    await t?.dispose();
    await dir?.dispose();
  });

  test("an openssl RSA-2048 CSR is issued under the device profile, and openssl verify -x509_strict accepts it", async () => {
    const csr = await opensslCsr(dir, "rsa2048", "/CN=tpm-meter-0001", [
      "-addext",
      "subjectAltName=DNS:tpm-meter-0001.devices.acme.test",
    ]);
    const registry = testRegistry(t.database, systemClock, authority);
    const device = await registry.register({ serialNumber: "TPM-METER-0001" }, systemCaller);
    const issued = await registry.issue({ csr, deviceId: device.id }, systemCaller);
    expect(issued).toMatchObject({ profile: "device", keyAlgorithm: "rsa2048", status: "good" });
    const leaf = await dir.write("tpm-leaf.pem", issued.pem);
    const { stdout } = await opensslVerifyChain(dir, leaf, ["-purpose", "sslclient"]);
    expect(stdout.trim()).toBe(`${leaf}: OK`);
    const text = (await openssl(["x509", "-in", leaf, "-noout", "-text"])).stdout;
    expect(text).toContain("Public-Key: (2048 bit)");
    expect(text).toContain(`URI:urn:keyfleet:device:${device.id}`);
    expect((await authority.certificate(issued.serial)).keyAlgorithm).toBe("rsa2048");
  });

  test("an RSA-2048 key is refused for a client bound to no device: a software key (unsupported-algorithm)", async () => {
    const csr = await opensslCsr(dir, "rsa2048", "/CN=reporting-service");
    const before = await certificateCount();
    await expect(authority.issue({ csr })).rejects.toMatchObject({
      code: "unsupported-algorithm",
      message: expect.stringContaining("RSA-2048 is for device keys only"),
    });
    expect(await certificateCount()).toBe(before);
  });

  test("an RSA-2048 key is refused for tls-server (unsupported-algorithm), and nothing is recorded", async () => {
    const csr = await opensslCsr(dir, "rsa2048", "/CN=api.acme.test", [
      "-addext",
      "subjectAltName=DNS:api.acme.test",
    ]);
    const before = await certificateCount();
    await expect(
      authority.issue({ csr, profile: "tls-server", requestId: "rsa2048-tls" }),
    ).rejects.toMatchObject({
      code: "unsupported-algorithm",
      message: expect.stringContaining("RSA-2048 is for device keys only"),
    });
    expect(await certificateCount()).toBe(before);
  });
});

test("`keyfleet init --algorithm rsa2048` is refused with unsupported-algorithm and makes nothing", async () => {
  const home = await mkdtemp(join(tmpdir(), "keyfleet-rsa2048-"));
  const data = join(home, "data");
  const env = { KEYFLEET_PASSPHRASE: "rsa2048 init passphrase" };
  try {
    const init = await runCli(["--data", data, "init", "--algorithm", "rsa2048"], env);
    expect(init).toEqual({
      code: 1,
      stdout: "",
      stderr:
        "keyfleet: RSA-2048 is for device keys only; CA keys use one of p256, p384, ed25519, rsa3072, rsa4096 (unsupported-algorithm)\n",
    });
    await expect(stat(data)).rejects.toMatchObject({ code: "ENOENT" });
  } finally {
    await rm(home, { recursive: true, force: true });
  }
});
