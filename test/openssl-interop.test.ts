/**
 * Done-when of the foundation: for each algorithm, a CSR made by `openssl req` is issued, and
 * `openssl verify -x509_strict` accepts the chain; `openssl x509 -text` shows the profile.
 */
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import type { KeyAlgorithmId } from "../src/crypto/index.js";
import { testDatabase, type TestDatabase } from "./support/databases.js";
import { initializedAuthority, testPublicUrl } from "./support/authority.js";
import { openssl, opensslVerifyChain, opensslCsr, workdir, type Workdir } from "./support/openssl.js";

const algorithms: KeyAlgorithmId[] = ["p256", "p384", "ed25519", "rsa3072"];

describe.each(algorithms)("openssl interop, %s hierarchy", (algorithm) => {
  let t: TestDatabase;
  let dir: Workdir;
  let issuingId: string;

  beforeAll(async () => {
    t = await testDatabase("pglite");
    dir = await workdir();
    const authority = await initializedAuthority(t.database, algorithm);
    const chain = await authority.chain();
    const [issuing, root] = chain.pem.split(/(?<=-----END CERTIFICATE-----\n)/);
    await dir.write("issuing.pem", issuing!);
    await dir.write("root.pem", root!);
    issuingId = (await authority.cas()).find((c) => c.kind === "intermediate")!.id;
    const csr = await opensslCsr(dir, algorithm, "/O=Acme/CN=meter-0001", [
      "-addext",
      "subjectAltName=DNS:meter-0001.devices.acme.test",
    ]);
    await dir.write("leaf.pem", (await authority.issue({ csr })).pem);
    const tlsCsr = await opensslCsr(dir, algorithm, "/CN=api.acme.test", [
      "-addext",
      "subjectAltName=DNS:api.acme.test,IP:127.0.0.1",
    ]);
    await dir.write("server.pem", (await authority.issue({ csr: tlsCsr, profile: "tls-server" })).pem);
  });
  afterAll(async () => {
    await t?.dispose();
    await dir?.dispose();
  });

  test("openssl verify -x509_strict accepts the device certificate as a TLS client", async () => {
    const { stdout } = await opensslVerifyChain(dir, dir.file("leaf.pem"), ["-purpose", "sslclient"]);
    expect(stdout.trim()).toBe(`${dir.file("leaf.pem")}: OK`);
  });

  test("openssl verify -x509_strict accepts the TLS server certificate for its name", async () => {
    const { stdout } = await opensslVerifyChain(dir, dir.file("server.pem"), [
      "-purpose",
      "sslserver",
      "-verify_hostname",
      "api.acme.test",
    ]);
    expect(stdout.trim()).toBe(`${dir.file("server.pem")}: OK`);
  });

  test("a device certificate is no TLS server certificate", async () => {
    await expect(
      opensslVerifyChain(dir, dir.file("leaf.pem"), ["-purpose", "sslserver"]),
    ).rejects.toMatchObject({ stderr: expect.stringContaining("unsuitable certificate purpose") });
  });

  test("openssl x509 -text shows the device profile's extensions and revocation URLs", async () => {
    const { stdout } = await openssl(["x509", "-in", dir.file("leaf.pem"), "-noout", "-text"]);
    expect(stdout).toMatch(/X509v3 Basic Constraints: critical\s+CA:FALSE/);
    expect(stdout).toMatch(/X509v3 Key Usage: critical\s+Digital Signature/);
    expect(stdout).toMatch(/X509v3 Extended Key Usage:\s+TLS Web Client Authentication/);
    expect(stdout).toContain("DNS:meter-0001.devices.acme.test");
    expect(stdout).toContain("X509v3 Subject Key Identifier");
    expect(stdout).toContain("X509v3 Authority Key Identifier");
    expect(stdout).toContain(`URI:${testPublicUrl}/crl/${issuingId}.crl`);
    expect(stdout).toContain(`OCSP - URI:${testPublicUrl}/ocsp`);
    expect(stdout).toContain(`CA Issuers - URI:${testPublicUrl}/ca/${issuingId}.cer`);
  });

  test("the issuing CA is a CA with path length 0; the root signs certificates and CRLs", async () => {
    const issuing = (await openssl(["x509", "-in", dir.file("issuing.pem"), "-noout", "-text"])).stdout;
    expect(issuing).toMatch(/X509v3 Basic Constraints: critical\s+CA:TRUE, pathlen:0/);
    expect(issuing).toMatch(/X509v3 Key Usage: critical\s+Digital Signature, Certificate Sign, CRL Sign/);
    const root = (await openssl(["x509", "-in", dir.file("root.pem"), "-noout", "-text"])).stdout;
    expect(root).toMatch(/X509v3 Basic Constraints: critical\s+CA:TRUE/);
    expect(root).toMatch(/Certificate Sign, CRL Sign/);
  });
});
