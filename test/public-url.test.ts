/** The public URL is one setting for every process: a change made by one reaches the others' certificates. */
import { afterEach, beforeEach, expect, test } from "vitest";
import { fixedClock } from "../src/domain/index.js";
import { testAuthority } from "./support/authority.js";
import { forEachDatabase, testDatabase, type TestDatabase } from "./support/databases.js";
import { openssl, opensslCsr, workdir, type Workdir } from "./support/openssl.js";

forEachDatabase("public URL setting", (kind) => {
  let t: TestDatabase;
  let dir: Workdir;
  beforeEach(async () => {
    t = await testDatabase(kind);
    dir = await workdir();
  });
  afterEach(async () => {
    await t.dispose();
    await dir.dispose();
  });

  test("a change made by one process is in the next certificates of another within seconds", async () => {
    const clock = fixedClock("2026-06-01T00:00:00Z");
    const node1 = testAuthority(t.database, clock);
    await node1.init({ algorithm: "p256", publicUrl: "http://pki-old.example.test" });
    const node2 = testAuthority(t.database, clock);
    const csr = await opensslCsr(dir, "p256", "/CN=url-device");
    const crlOf = async (pem: string) => {
      await dir.write("c.pem", pem);
      return /URI:(http:\/\/[^/]+)\/crl\//.exec(
        (await openssl(["x509", "-in", dir.file("c.pem"), "-noout", "-text"])).stdout,
      )![1];
    };
    expect(await crlOf((await node2.issue({ csr })).pem)).toBe("http://pki-old.example.test");

    expect(await node1.setPublicUrl("http://pki-new.example.test", "test")).toBe(
      "http://pki-old.example.test",
    );
    expect(await crlOf((await node1.issue({ csr })).pem)).toBe("http://pki-new.example.test");
    clock.advance(10);
    expect(await crlOf((await node2.issue({ csr })).pem)).toBe("http://pki-new.example.test");
    expect((await node2.cas())[0]!.urls.crl).toMatch(/^http:\/\/pki-new\.example\.test\/crl\//);
  });
});
