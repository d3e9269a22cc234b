/**
 * A second, independent EST client (issue 16): strongSwan's `pki` with its own TLS stack (TLS 1.2,
 * CBC suites only; FIELD-NOTES, EST) fetches the CA certificates, enrolls with a bootstrap token as
 * HTTP Basic, and re-enrolls with the certificate it got as TLS client certificate.
 */
import { readFile, writeFile } from "node:fs/promises";
import { afterAll, beforeAll, expect, test } from "vitest";
import { ensureInitialized } from "../src/first-run.js";
import { startServers, type RunningServers } from "../src/http/index.js";
import { toPem } from "../src/pki/index.js";
import { systemCaller } from "../src/policy/index.js";
import { testApp, type TestApp } from "./support/app.js";
import { forEachDatabase } from "./support/databases.js";
import { estWorkspace, run, type EstWorkspace } from "./support/est.js";

forEachDatabase("strongSwan pki --est", (kind) => {
  let t: TestApp;
  let servers: RunningServers;
  let est: EstWorkspace;
  let caArgs: string[];
  const pki = (args: readonly string[]) => run("pki", args);

  beforeAll(async () => {
    t = await testApp(kind, { config: { httpsPort: 0, httpPort: 0 } });
    await ensureInitialized(t.app, { algorithm: "p256" });
    servers = await startServers(t.app);
    const chain = await t.app.authority.chain();
    est = await estWorkspace(chain.pem);
    caArgs = [];
    for (const [i, der] of chain.der.entries()) {
      await writeFile(est.path(`ca${i}.pem`), toPem("CERTIFICATE", der));
      caArgs.push("--cacert", est.path(`ca${i}.pem`));
    }
  });
  afterAll(async () => {
    await servers?.close();
    await est?.dispose();
    await t?.dispose();
  });

  const newCsr = async (name: string, dn: string) => {
    const key = await pki(["--gen", "--type", "ecdsa", "--size", "256", "--outform", "pem"]);
    await writeFile(est.path(`${name}.key`), key.stdout);
    const csr = await pki([
      "--req",
      "--in",
      est.path(`${name}.key`),
      "--type",
      "priv",
      "--dn",
      dn,
      "--outform",
      "pem",
    ]);
    expect(csr.code).toBe(0);
    await writeFile(est.path(`${name}.csr`), csr.stdout);
  };

  test("cacerts, simpleenroll with Basic, simplereenroll with the issued certificate", async () => {
    const estca = await pki([
      "--estca",
      "--url",
      servers.httpsUrl,
      ...caArgs.slice(-2),
      "--caout",
      est.path("fetched"),
      "--outform",
      "pem",
    ]);
    expect(estca.code, estca.stdout + estca.stderr).toBe(0);
    expect(await readFile(est.path("fetched.pem"), "utf8")).toContain("BEGIN CERTIFICATE");

    const id = (await t.app.devices.register({ serialNumber: "SN-SWAN-1" }, systemCaller)).id;
    const { token } = await t.app.bootstrapTokens.create(systemCaller, { deviceId: id });
    await newCsr("first", "CN=SN-SWAN-1");
    const enrolled = await pki([
      "--est",
      "--url",
      servers.httpsUrl,
      ...caArgs,
      "--in",
      est.path("first.csr"),
      "--userpass",
      `${id}:${token}`,
      "--outform",
      "pem",
    ]);
    expect(enrolled.code, enrolled.stderr).toBe(0);
    expect(enrolled.stderr).toContain("Issued certificate is trusted");
    await writeFile(est.path("first.crt"), enrolled.stdout);
    expect((await t.app.devices.get(id, systemCaller)).state).toBe("provisioned");

    await newCsr("second", "CN=SN-SWAN-1, serialNumber=SN-SWAN-1");
    const renewed = await pki([
      "--est",
      "--url",
      servers.httpsUrl,
      ...caArgs,
      "--in",
      est.path("second.csr"),
      "--cert",
      est.path("first.crt"),
      "--key",
      est.path("first.key"),
      "--outform",
      "pem",
    ]);
    expect(renewed.code, renewed.stderr).toBe(0);
    expect(renewed.stderr).toContain("Issued certificate is trusted");
    const device = await t.app.devices.get(id, systemCaller);
    expect(device.state).toBe("rotating"); // confirmed by the request itself, then rotated
    expect((await t.app.devices.history(id, systemCaller)).items.map((e) => e.command)).toEqual([
      "issue",
      "confirm",
      "rotate",
    ]);
  });
});
