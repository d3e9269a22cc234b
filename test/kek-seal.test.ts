/**
 * Leaving the development KEK file: `keyfleet kek seal` re-seals every key under the passphrase in
 * one transaction and removes the file; the authority signs on as before, now only with the
 * passphrase; a refused start creates nothing.
 */
import { mkdtemp, readdir, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, test } from "vitest";
import { openDatabase } from "../src/store/database.js";
import { runCli } from "./support/cli.js";
import { opensslCsr, workdir, type Workdir } from "./support/openssl.js";

const passphrase = "a long passphrase for the kek seal test";

describe("keyfleet kek seal [pglite]", () => {
  let home: string;
  let data: string;
  let dir: Workdir;
  const kf = (args: string[], env: NodeJS.ProcessEnv = {}) => runCli(["--data", data, ...args], env);
  beforeEach(async () => {
    home = await mkdtemp(join(tmpdir(), "keyfleet-kek-"));
    data = join(home, "data");
    dir = await workdir();
    await dir.write("d.csr", await opensslCsr(dir, "p256", "/CN=kek-device"));
  });
  afterEach(async () => {
    await rm(home, { recursive: true, force: true });
    await dir.dispose();
  });

  const sealedSources = async () => {
    const db = await openDatabase({ dataDir: join(data, "pglite") });
    try {
      return (await db.db.selectFrom("sealed_keys").select("kek_source").execute()).map((r) => r.kek_source);
    } finally {
      await db.close();
    }
  };

  test("re-seals every key under the passphrase and removes the file; the CAs sign on with the passphrase only", async () => {
    const init = await kf(["init"]);
    expect(init.code).toBe(0);
    expect(init.stderr).toMatch(/^keyfleet: warning: development key store/);
    expect(await sealedSources()).toEqual(["file", "file"]);

    // With the passphrase set but the keys still under the file, the message says what to do.
    const locked = await kf(["cert", "issue", "--csr", dir.file("d.csr")], {
      KEYFLEET_PASSPHRASE: passphrase,
    });
    expect(locked.stderr).toMatch(
      /run `keyfleet kek seal` with KEYFLEET_PASSPHRASE set.*\(key-store-locked\)\n$/,
    );

    expect((await kf(["kek", "seal"])).stderr).toBe(
      "keyfleet: set KEYFLEET_PASSPHRASE to the passphrase the keys are to be sealed under (invalid-configuration)\n",
    );
    expect((await kf(["kek", "seal"], { KEYFLEET_PASSPHRASE: "short" })).stderr).toMatch(
      /at least 12 characters/,
    );
    expect(await sealedSources()).toEqual(["file", "file"]);

    const sealed = await kf(["kek", "seal"], { KEYFLEET_PASSPHRASE: passphrase });
    expect(sealed.stdout).toMatch(/^re-sealed 2 keys under KEYFLEET_PASSPHRASE/);
    await expect(stat(join(data, "kek"))).rejects.toMatchObject({ code: "ENOENT" });
    expect(await sealedSources()).toEqual(["passphrase", "passphrase"]);

    expect(
      (await kf(["cert", "issue", "--csr", dir.file("d.csr")], { KEYFLEET_PASSPHRASE: passphrase })).code,
    ).toBe(0);
    expect(
      (await kf(["cert", "issue", "--csr", dir.file("d.csr")], { KEYFLEET_PASSPHRASE: "not the passphrase" }))
        .stderr,
    ).toMatch(/\(key-store-locked\)/);
    expect((await kf(["cert", "issue", "--csr", dir.file("d.csr")])).stderr).toMatch(
      /set KEYFLEET_PASSPHRASE.*\(key-store-locked\)/,
    );
    expect((await kf(["kek", "seal"], { KEYFLEET_PASSPHRASE: passphrase })).stderr).toMatch(
      /already sealed under a passphrase.*\(conflict\)/,
    );
  });

  test("a start that cannot open the keys creates no KEK file, and a refused first start leaves no data directory", async () => {
    expect((await kf(["init"], { KEYFLEET_PASSPHRASE: passphrase })).code).toBe(0);
    const before = (await readdir(data)).sort();
    // The keys are under a passphrase: without it, nothing may make a development KEK file beside them.
    const serve = await kf(["serve", "--https-port", "0", "--http-port", "0"]);
    expect(serve.code).toBe(1);
    expect(serve.stderr).toMatch(/set KEYFLEET_PASSPHRASE.*\(key-store-locked\)\n$/);
    expect((await readdir(data)).sort()).toEqual(before);

    const fresh = join(home, "fresh");
    const refused = await runCli(["--data", fresh, "init", "--algorithm", "p999"]);
    expect(refused.stderr).toMatch(/\(unsupported-algorithm\)\n$/);
    await expect(stat(fresh)).rejects.toMatchObject({ code: "ENOENT" });
  });
});
