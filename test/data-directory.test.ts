/**
 * The data directory is its user's alone (issue 13, defect 7): secrets are created as new 0600
 * files, never through a planted link or over an existing file; a directory (or keyfleet.yaml)
 * others can write is refused by every command; after `init` nothing in it is open to others.
 */
import {
  chmod,
  chown,
  lstat,
  mkdir,
  mkdtemp,
  readFile,
  readdir,
  readlink,
  rm,
  stat,
  symlink,
  writeFile,
} from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, test } from "vitest";
import { ensureInitialized } from "../src/first-run.js";
import { runCli, type CliResult } from "./support/cli.js";
import { testApp, type TestApp } from "./support/app.js";

/** One line on stderr naming the code (after the development key store's warning, if any), nothing on stdout, exit 1. */
function expectRefused(res: CliResult, message: RegExp, code: string): void {
  expect(res.stdout).toBe("");
  const error = res.stderr.replace(/^keyfleet: warning: development key store: .*\n/, "");
  expect(error).toMatch(/^keyfleet: [^\n]*\n$/);
  expect(error).toMatch(message);
  expect(error).toContain(`(${code})\n`);
  expect(res.code).toBe(1);
}

/** Every entry under `dir` whose mode lets group or others in (a link's own mode means nothing). */
async function openToOthers(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  const loose: string[] = [];
  for (const path of [dir, ...entries.map((e) => join(e.parentPath, e.name))]) {
    const s = await lstat(path);
    if (!s.isSymbolicLink() && (s.mode & 0o077) !== 0) loose.push(`${path} ${(s.mode & 0o777).toString(8)}`);
  }
  return loose;
}

let home: string;
beforeAll(async () => {
  home = await mkdtemp(join(tmpdir(), "keyfleet-datadir-"));
});
afterAll(() => rm(home, { recursive: true, force: true }));

let counter = 0;
/** A new, empty data directory of the user's own (as `mkdir -m 700` makes it). */
async function freshDataDir(): Promise<string> {
  const data = join(home, `data-${++counter}`);
  await mkdir(data, { mode: 0o700 });
  return data;
}

describe("the first admin token's file [pglite]", () => {
  let t: TestApp;
  let target: string;
  beforeEach(async () => {
    t = await testApp("pglite");
    target = join(home, `elsewhere-${++counter}`);
    await writeFile(target, "someone else's file\n", { mode: 0o644 });
  });
  afterEach(() => t.dispose());

  const nothingMade = async () => {
    expect(await t.app.authority.initialized()).toBe(false);
    expect(await t.app.tokens.count()).toBe(0);
  };

  test("a symbolic link planted at its path is not followed: the first start is refused and makes nothing", async () => {
    const path = join(t.dataDir, "admin-token");
    await symlink(target, path);
    await expect(ensureInitialized(t.app, { algorithm: "p256" })).rejects.toMatchObject({
      code: "conflict",
      message: expect.stringContaining(`${path} already exists (a symbolic link)`),
    });
    expect(await readFile(target, "utf8")).toBe("someone else's file\n");
    expect((await stat(target)).mode & 0o777).toBe(0o644);
    expect(await readlink(path)).toBe(target);
    await nothingMade();
  });

  test("a dangling link is refused too (it would create the file where it points)", async () => {
    const path = join(t.dataDir, "admin-token");
    const nowhere = join(home, `not-yet-${++counter}`);
    await symlink(nowhere, path);
    await expect(ensureInitialized(t.app, { algorithm: "p256" })).rejects.toMatchObject({ code: "conflict" });
    await expect(lstat(nowhere)).rejects.toMatchObject({ code: "ENOENT" });
    await nothingMade();
  });

  test("an existing file is refused, not kept with its looser mode while the banner says 0600", async () => {
    const path = join(t.dataDir, "admin-token");
    await writeFile(path, "kf_old\n", { mode: 0o644 });
    await expect(ensureInitialized(t.app, { algorithm: "p256" })).rejects.toMatchObject({
      code: "conflict",
      message: expect.stringContaining(`${path} already exists (a file)`),
    });
    expect(await readFile(path, "utf8")).toBe("kf_old\n");
    await nothingMade();
  });
});

describe("keyfleet init and the data directory [pglite]", () => {
  test("init with a link planted at admin-token fails with one line and leaves the target and the authority untouched", async () => {
    const data = await freshDataDir();
    const target = join(home, `victim-${++counter}`);
    await writeFile(target, "precious\n", { mode: 0o644 });
    await symlink(target, join(data, "admin-token"));
    expectRefused(
      await runCli(["--data", data, "init"]),
      /admin-token already exists \(a symbolic link\).*move it away and run again/,
      "conflict",
    );
    expect(await readFile(target, "utf8")).toBe("precious\n");
    expect((await stat(target)).mode & 0o777).toBe(0o644);
    // Nothing was initialized: with the link gone, init runs as on a new directory.
    await rm(join(data, "admin-token"));
    const init = await runCli(["--data", data, "init"]);
    expect(init.code, init.stderr).toBe(0);
    expect(init.stdout).toContain(`first admin token written to ${join(data, "admin-token")} (mode 0600)`);
  });

  test("after init no file or directory under the data directory is open to group or others", async () => {
    const data = join(home, `made-by-init-${++counter}`); // init makes it
    const init = await runCli(["--data", data, "init"]);
    expect(init.code, init.stderr).toBe(0);
    const names = (await readdir(join(data, "pglite"), { recursive: true })).length;
    expect(names).toBeGreaterThan(900); // the whole database was walked
    expect(await openToOthers(data)).toEqual([]);
    expect((await stat(join(data, "kek"))).mode & 0o777).toBe(0o600);
    expect((await stat(join(data, "admin-token"))).mode & 0o777).toBe(0o600);
  });

  test("a link planted at the development KEK's path is refused, not read or written through", async () => {
    const data = await freshDataDir();
    const known = join(home, `known-key-${++counter}`);
    await writeFile(known, Buffer.alloc(32, 7), { mode: 0o600 }); // a key someone else knows
    await symlink(known, join(data, "kek"));
    expectRefused(
      await runCli(["--data", data, "init"]),
      new RegExp(`${join(data, "kek")} is a symbolic link`),
      "invalid-configuration",
    );
    expect(await readFile(known)).toEqual(Buffer.alloc(32, 7));
    await expect(lstat(join(data, "admin-token"))).rejects.toMatchObject({ code: "ENOENT" });
  });

  test("a development KEK file open to others is made 0600, and the command says so", async () => {
    const data = join(home, `loose-kek-${++counter}`);
    expect((await runCli(["--data", data, "init"])).code).toBe(0);
    await chmod(join(data, "kek"), 0o644);
    const list = await runCli(["--data", data, "ca", "list"]);
    expect(list.code, list.stderr).toBe(0);
    expect(list.stderr).toMatch(
      /^keyfleet: warning: the development KEK file was open to others; it is now 0600/m,
    );
    expect((await stat(join(data, "kek"))).mode & 0o777).toBe(0o600);
  });

  test.each(["0777", "0770", "0702"])(
    "a data directory of mode %s is refused by a one-shot command and by init, which make nothing",
    async (octal) => {
      const data = await freshDataDir();
      await chmod(data, Number.parseInt(octal, 8));
      const problem = `the data directory ${data} is writable by others (mode ${octal}): run \`chmod 700 ${data}\``;
      expectRefused(
        await runCli(["--data", data, "ca", "list"]),
        new RegExp(escape(problem)),
        "invalid-configuration",
      );
      expect((await runCli(["--data", data, "init"])).stderr).toBe(
        `keyfleet: ${problem} (invalid-configuration)\n`,
      );
      expect(await readdir(data)).toEqual([]);
    },
  );

  test("an initialized data directory made writable by others is refused before its keyfleet.yaml is read", async () => {
    const data = join(home, `loosened-${++counter}`);
    expect((await runCli(["--data", data, "init"])).code).toBe(0);
    await writeFile(join(data, "keyfleet.yaml"), "publicUrl: http://attacker.example\n", { mode: 0o600 });
    await chmod(data, 0o777);
    try {
      expectRefused(
        await runCli(["--data", data, "config", "show"]),
        /is writable by others \(mode 0777\)/,
        "invalid-configuration",
      );
    } finally {
      await chmod(data, 0o700);
    }
    expect((await runCli(["--data", data, "ca", "list"])).code).toBe(0);
  });

  test("a keyfleet.yaml others can write is refused; the owner's own is read", async () => {
    const data = await freshDataDir();
    const yaml = join(data, "keyfleet.yaml");
    await writeFile(yaml, "logLevel: warn\n");
    await chmod(yaml, 0o666);
    expectRefused(
      await runCli(["--data", data, "ca", "list"]),
      new RegExp(escape(`${yaml} is writable by others (mode 0666): run \`chmod 600 ${yaml}\``)),
      "invalid-configuration",
    );
    await chmod(yaml, 0o644);
    expectRefused(await runCli(["--data", data, "ca", "list"]), /no Keyfleet data in/, "not-initialized");
  });

  test("a data directory that belongs to another user is refused by a one-shot command", async () => {
    // As root: a directory given to nobody (65534). As anyone else: a directory root owns.
    const uid = process.geteuid!();
    let data = "/usr";
    if (uid === 0) {
      data = await freshDataDir();
      await chown(data, 65534, 65534);
    }
    const owner = (await stat(data)).uid;
    expect(owner).not.toBe(uid);
    expectRefused(
      await runCli(["--data", data, "ca", "list"]),
      new RegExp(
        escape(
          `the data directory ${data} belongs to uid ${owner}, not to this user (uid ${uid}): run keyfleet as its owner`,
        ),
      ),
      "invalid-configuration",
    );
  });
});

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}
