/**
 * A full CRL made from the database (issue 17): the issuing CA's held and revoked certificates,
 * put there by lifecycle commands (suspend holds, finalize revokes), signed with its key, numbered
 * from its own sequence; openssl verifies it and, with -crl_check, refuses the held and revoked
 * certificates and accepts the good one. On PGlite and PostgreSQL.
 */
import { afterAll, beforeAll, expect, test } from "vitest";
import { ensureInitialized } from "../src/first-run.js";
import { toPem } from "../src/pki/index.js";
import { systemCaller } from "../src/policy/index.js";
import { testApp, type TestApp } from "./support/app.js";
import { forEachDatabase } from "./support/databases.js";
import { openssl, opensslCsr, workdir, type Workdir } from "./support/openssl.js";

forEachDatabase("CRL producer", (kind) => {
  let t: TestApp;
  let dir: Workdir;
  let issuingId: string;

  const device = async (serial: string): Promise<{ id: string; pem: string }> => {
    const id = (await t.app.devices.register({ serialNumber: serial }, systemCaller)).id;
    const csr = await opensslCsr(dir, "p256", `/CN=${serial}`);
    const issued = await t.app.devices.issue({ csr, deviceId: id }, systemCaller);
    await t.app.devices.apply(id, { kind: "confirm" }, systemCaller, {
      evidence: [{ kind: "proof-of-possession", ref: "test" }],
    });
    await dir.write(`${serial}.pem`, issued.pem);
    return { id, pem: issued.pem };
  };
  const verify = async (serial: string, crl: string): Promise<string> => {
    const args = ["verify", "-crl_check", "-CAfile", dir.file("chain.pem"), "-CRLfile", dir.file(crl)];
    try {
      return (await openssl([...args, dir.file(`${serial}.pem`)])).stdout.trim();
    } catch (e) {
      const { stdout, stderr } = e as { stdout?: string; stderr?: string };
      return `refused: ${String(stdout)} ${String(stderr)}`;
    }
  };

  beforeAll(async () => {
    t = await testApp(kind);
    await ensureInitialized(t.app, { algorithm: "p256" });
    dir = await workdir();
    await dir.write("chain.pem", (await t.app.authority.chain()).pem);
    issuingId = (await t.app.authority.cas()).find((c) => c.kind === "intermediate")!.id;
  });
  afterAll(async () => {
    await dir.dispose();
    await t.dispose();
  });

  test("an empty CRL first, then one with the held and the revoked certificates; numbers from 1 up", async () => {
    const good = await device("SN-CRL-GOOD");
    const held = await device("SN-CRL-HELD");
    const revoked = await device("SN-CRL-GONE");

    const empty = await t.app.authority.produceCrl(issuingId);
    expect(empty).toMatchObject({ issuerId: issuingId, number: 1n, entries: 0 });
    await dir.write("empty.crl.pem", toPem("X509 CRL", empty.der));
    expect(await verify("SN-CRL-HELD", "empty.crl.pem")).toMatch(/: OK$/);

    await t.app.devices.apply(held.id, { kind: "suspend" }, systemCaller);
    await t.app.devices.apply(revoked.id, { kind: "retire" }, systemCaller);
    await t.app.devices.apply(revoked.id, { kind: "finalize" }, systemCaller);
    const crl = await t.app.authority.produceCrl(issuingId);
    expect(crl).toMatchObject({ number: 2n, entries: 2 });
    expect(crl.nextUpdate.getTime() - crl.thisUpdate.getTime()).toBe(24 * 3600 * 1000);
    await dir.write("crl.pem", toPem("X509 CRL", crl.der));

    const shown = await openssl([
      "crl",
      "-in",
      dir.file("crl.pem"),
      "-CAfile",
      dir.file("chain.pem"),
      "-noout",
      "-text",
    ]);
    expect(shown.stderr).toContain("verify OK");
    expect(shown.stdout).toMatch(/X509v3 CRL Number: \n\s+2\n/);
    expect(shown.stdout).toContain(`URI:http://pki.example.test:8080/crl/${issuingId}.crl`);
    expect(shown.stdout).toContain("Only User Certificates");
    expect(shown.stdout).toContain("Certificate Hold");
    expect(shown.stdout).toContain("Cessation Of Operation");
    expect(shown.stdout.match(/Serial Number: /g)).toHaveLength(2);

    expect(await verify("SN-CRL-GOOD", "crl.pem")).toMatch(/SN-CRL-GOOD\.pem: OK$/);
    expect(await verify("SN-CRL-HELD", "crl.pem")).toMatch(/certificate revoked/);
    expect(await verify("SN-CRL-GONE", "crl.pem")).toMatch(/certificate revoked/);
    expect(good.pem).toContain("BEGIN CERTIFICATE");

    // Resuming lifts the hold: the next CRL leaves the certificate out.
    await t.app.devices.apply(held.id, { kind: "resume" }, systemCaller);
    const after = await t.app.authority.produceCrl(issuingId);
    expect(after).toMatchObject({ number: 3n, entries: 1 });
    await dir.write("after.crl.pem", toPem("X509 CRL", after.der));
    expect(await verify("SN-CRL-HELD", "after.crl.pem")).toMatch(/SN-CRL-HELD\.pem: OK$/);
  });

  test("an unknown CA is not-found", async () => {
    await expect(t.app.authority.produceCrl("ca-0000000000")).rejects.toMatchObject({ code: "not-found" });
  });
});
