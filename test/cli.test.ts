/**
 * The CLI as a user meets it, in this process (`main()`): init, issue, verify with openssl, tokens,
 * settings, and the one-line error format; on PostgreSQL, init and read commands on an empty schema.
 * Beside a running server: test/cli-server.test.ts. As a child process: test/cli-process.test.ts.
 */
import { randomBytes } from "node:crypto";
import { mkdtemp, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, inject, test } from "vitest";
import { adminQuery } from "./support/databases.js";
import { runCli, type CliResult } from "./support/cli.js";
import { openssl, opensslVerifyChain, opensslCsr, workdir, type Workdir } from "./support/openssl.js";

const passphrase = { KEYFLEET_PASSPHRASE: "cli test passphrase" };

function json<T>(res: CliResult): T {
  expect(res.stderr).toBe("");
  expect(res.code).toBe(0);
  return JSON.parse(res.stdout) as T;
}

/** One line on stderr naming the code, nothing on stdout, exit 1. */
function expectRefused(res: CliResult, message: RegExp | string, code: string): void {
  expect(res.stdout).toBe("");
  expect(res.stderr).toMatch(/^keyfleet: [^\n]*\n$/);
  if (typeof message === "string") expect(res.stderr).toBe(`keyfleet: ${message} (${code})\n`);
  else expect(res.stderr).toMatch(message);
  expect(res.stderr).toContain(`(${code})\n`);
  expect(res.code).toBe(1);
}

describe("keyfleet CLI on PGlite", () => {
  let data: string;
  let dir: Workdir;
  const kf = (args: string[], env: NodeJS.ProcessEnv = passphrase) => runCli(["--data", data, ...args], env);

  beforeAll(async () => {
    data = join(await mkdtemp(join(tmpdir(), "keyfleet-cli-")), "data");
    dir = await workdir();
    const init = await kf(["init", "--algorithm", "p384", "--public-url", "http://pki.example.test:8080"]);
    expect(init.stderr).toBe("");
    expect(init.code).toBe(0);
    expect(init.stdout).toMatch(/root CA\s+ca-[0-9a-f]+\s+p384/);
    await dir.write("device.csr", await opensslCsr(dir, "p256", "/CN=cli-device"));
  });
  afterAll(async () => {
    await rm(join(data, ".."), { recursive: true, force: true });
    await dir.dispose();
  });

  test("init, ca chain, cert issue: openssl verifies what the CLI printed", async () => {
    expect((await stat(join(data, "admin-token"))).mode & 0o777).toBe(0o600);
    const chain = await kf(["ca", "chain"]);
    expect(chain.stdout.match(/BEGIN CERTIFICATE/g)).toHaveLength(2);
    const [issuing, root] = chain.stdout.split(/(?<=-----END CERTIFICATE-----\n)/);
    await dir.write("issuing.pem", issuing!);
    await dir.write("root.pem", root!);

    const issued = await kf(["cert", "issue", "--csr", dir.file("device.csr")]);
    expect(issued.code).toBe(0);
    await dir.write("leaf.pem", issued.stdout);
    const verify = await opensslVerifyChain(dir, dir.file("leaf.pem"));
    expect(verify.stdout).toContain(": OK");
    const text = (await openssl(["x509", "-in", dir.file("leaf.pem"), "-noout", "-text"])).stdout;
    expect(text).toContain("URI:http://pki.example.test:8080/crl/");

    const serial = (await openssl(["x509", "-in", dir.file("leaf.pem"), "-noout", "-serial"])).stdout
      .trim()
      .replace("serial=", "");
    expect(json(await kf(["--json", "cert", "show", serial]))).toMatchObject({ serial, status: "good" });
    expect((await kf(["cert", "list"])).stdout).toContain(serial);
  });

  test("a command on a data directory that does not exist fails and creates nothing", async () => {
    const missing = join(data, "typo", "keyfleet-data");
    const res = await runCli(["--data", missing, "ca", "list"]);
    expectRefused(
      res,
      `no Keyfleet data in ${missing}: run \`keyfleet init\` there first, or point --data (KEYFLEET_DATA) at an existing data directory`,
      "not-initialized",
    );
    await expect(stat(join(data, "typo"))).rejects.toMatchObject({ code: "ENOENT" });
  });

  test("init twice is refused with one line", async () => {
    expectRefused(await kf(["init"]), /already initialized/, "conflict");
  });

  test("refuses bad input with one line: malformed CSR, wrong passphrase, unknown profile, missing file", async () => {
    const before = json<{ items: unknown[] }>(await kf(["--json", "cert", "list"])).items.length;
    await dir.write("junk.csr", "this is not a CSR");
    expectRefused(
      await kf(["cert", "issue", "--csr", dir.file("junk.csr")]),
      /^keyfleet: .*/,
      "malformed-request",
    );
    expectRefused(
      await kf(["cert", "issue", "--csr", dir.file("device.csr")], { KEYFLEET_PASSPHRASE: "wrong" }),
      /wrong passphrase/,
      "key-store-locked",
    );
    expectRefused(
      await kf(["cert", "issue", "--csr", dir.file("device.csr"), "--profile", "nope"]),
      /unknown profile "nope"/,
      "unknown-profile",
    );
    expectRefused(
      await kf(["cert", "issue", "--csr", dir.file("absent.csr")]),
      `no file ${dir.file("absent.csr")}`,
      "not-found",
    );
    expect(json<{ items: unknown[] }>(await kf(["--json", "cert", "list"])).items).toHaveLength(before);
  });

  test("cert show takes the serial as openssl -serial and openssl -text print it", async () => {
    const issued = json<{ serial: string }>(
      await kf(["--json", "cert", "issue", "--csr", dir.file("device.csr")]),
    );
    const colons = issued.serial.toUpperCase().match(/../g)!.join(":");
    expect(json(await kf(["--json", "cert", "show", colons]))).toMatchObject({ serial: issued.serial });
  });

  test("token create and device register print the value alone", async () => {
    const token = await kf(["token", "create", "--role", "operator", "--scope", "tenant=acme"]);
    expect(token.stdout).toMatch(/^kf_[A-Za-z0-9_-]{43}\n$/);
    expectRefused(
      await kf(["token", "create", "--role", "superuser"]),
      /unknown role "superuser"/,
      "malformed-request",
    );
    const id = (await kf(["device", "register", "--serial", "SN-1", "--model", "m1"])).stdout.trim();
    expect(id).toMatch(/^[0-9a-f-]{36}$/);
    expectRefused(await kf(["device", "register", "--serial", "SN-1"]), /already registered/, "conflict");
    const bound = json(
      await kf(["--json", "cert", "issue", "--csr", dir.file("device.csr"), "--device", id]),
    );
    expect(bound).toMatchObject({ deviceId: id, subject: expect.stringContaining("serialNumber=SN-1") });
  });

  test("group list: a table by default, the page as JSON with --json", async () => {
    for (const [serial, tenant] of [
      ["GRP-1", "acme"],
      ["GRP-2", "acme"],
      ["GRP-3", "globex"],
    ]) {
      const made = await kf([
        "device",
        "register",
        "--serial",
        serial!,
        "--tenant",
        tenant!,
        "--group",
        "cli-sensors",
      ]);
      expect(made.code).toBe(0);
    }
    const table = await kf(["group", "list"]);
    expect(table.stderr).toBe("");
    const lines = table.stdout.trim().split("\n");
    expect(lines[0]).toMatch(/^TENANT\s+GROUP\s+DEVICES\s+CREATED$/);
    expect(lines.filter((l) => l.includes("cli-sensors")).map((l) => l.split(/\s+/).slice(0, 3))).toEqual([
      ["acme", "cli-sensors", "2"],
      ["globex", "cli-sensors", "1"],
    ]);
    const page = json<{ items: { tenant: string; name: string; devices: number }[]; next: string | null }>(
      await kf(["--json", "group", "list", "--limit", "1"]),
    );
    expect(page.items).toHaveLength(1);
    expect(page.next).toEqual(expect.any(String));
    type Page = { items: { tenant: string; name: string }[] };
    const rest = json<Page>(await kf(["--json", "group", "list", "--after", page.next!]));
    const all = json<Page>(await kf(["--json", "group", "list"]));
    const key = (g: { tenant: string; name: string }) => `${g.tenant}/${g.name}`;
    expect([...page.items, ...rest.items].map(key)).toEqual(all.items.map(key));
  });

  test("tokens are listed without secrets, revoked, and rotated", async () => {
    const created = json<{ id: string; token: string }>(
      await kf(["--json", "token", "create", "--role", "auditor", "--description", "ci reader"]),
    );
    const listed = json<{ items: { id: string; state: string; description: string | null }[] }>(
      await kf(["--json", "token", "list"]),
    );
    expect(listed.items.find((t) => t.id === created.id)).toMatchObject({
      state: "active",
      description: "ci reader",
    });
    expect(JSON.stringify(listed)).not.toContain(created.token);
    expect((await kf(["token", "list"])).stdout).toContain(`${created.id}  auditor`);

    const rotated = await kf(["token", "rotate", created.id]);
    expect(rotated.stdout).toMatch(/^kf_[A-Za-z0-9_-]{43}\n$/);
    const after = json<{ items: { id: string; state: string; replacedBy: string | null }[] }>(
      await kf(["--json", "token", "list"]),
    );
    const successor = after.items.find(
      (t) => t.id === after.items.find((o) => o.id === created.id)!.replacedBy,
    )!;
    expect(successor.state).toBe("active");
    expect(after.items.find((t) => t.id === created.id)!.state).toBe("revoked");
    expectRefused(await kf(["token", "revoke", created.id]), /already revoked/, "conflict");
    expect((await kf(["token", "revoke", successor.id])).stdout).toBe(`revoked ${successor.id}\n`);
    expectRefused(
      await kf(["token", "revoke", "not-a-token-id"]),
      /a token id is a UUID/,
      "malformed-request",
    );
  });

  test("device lifecycle on the CLI: retire, cancel, resume, history; a forbidden transition is one line", async () => {
    const id = (
      await kf(["device", "register", "--serial", "CLI-LC-1", "--group", "lot-1", "--label", "site=berlin"])
    ).stdout.trim();
    const listed = json<{ id: string }[]>(
      await kf(["device", "list", "--group", "lot-1", "--label", "site=berlin", "--json"]),
    );
    expect(listed.map((d) => d.id)).toEqual([id]);
    expectRefused(
      await kf(["device", "list", "--state", "asleep"]),
      /state is one of registered/,
      "malformed-request",
    );
    expectRefused(
      await kf(["device", "list", "--label", "site"]),
      /a label is key=value/,
      "malformed-request",
    );
    const retired = json<{ device: { state: string; version: number }; event: { actor: string } }>(
      await kf(["device", "retire", id, "--reason", "returned by customer", "--json"]),
    );
    expect(retired.device).toMatchObject({ state: "decommissioning", version: 2 });
    expect(retired.event.actor).toMatch(/^cli:/);
    expectRefused(
      await kf(["device", "cancel", id, "--if-version", "1"]),
      /is at version 2, not 1/,
      "precondition-failed",
    );
    const cancelled = await kf(["device", "cancel", id]);
    expect(cancelled.stdout).toMatch(/v3\s+cancel\s+decommissioning → suspended/);
    await kf(["device", "resume", id]);
    const history = await kf(["device", "history", id]);
    expect(
      history.stdout
        .trim()
        .split("\n")
        .map((l) => l.split(/\s+/)[2]),
    ).toEqual(["retire", "cancel", "resume"]);
    expect(history.stdout).toContain('"returned by customer"');
    await kf(["device", "retire", id]);
    const done = await kf(["device", "finalize", id, "--compromised"]);
    expect(done.stdout).toMatch(/finalize\s+decommissioning → decommissioned/);
    expectRefused(await kf(["device", "resume", id]), /the device is decommissioned/, "invalid-transition");
    expectRefused(
      await kf(["device", "register", "--serial", "CLI-LC-1", "--tenant", "other"]),
      /decommissioned hardware identity is never registered again/,
      "identity-tombstoned",
    );
    expect(json<{ state: string }>(await kf(["device", "show", id, "--json"])).state).toBe("decommissioned");
  });

  test("bulk jobs on the CLI: a dry run, a job to its end, its record", async () => {
    for (const n of [1, 2, 3])
      await kf(["device", "register", "--serial", `CLI-JOB-${n}`, "--group", "lot-j"]);
    const dry = await kf(["job", "start", "retire", "--group", "lot-j", "--dry-run"]);
    expect(dry.stdout).toMatch(/^3 devices match; a sample:/);
    expectRefused(
      await kf(["job", "start", "retire", "--group", "lot-j", "--cap", "2"]),
      /more than 2 devices/,
      "malformed-request",
    );
    const done = json<{ id: string; state: string; applied: number; total: number }>(
      await kf(["job", "start", "retire", "--group", "lot-j", "--reason", "end of trial", "--json"]),
    );
    expect(done).toMatchObject({ state: "done", applied: 3, total: 3 });
    expect((await kf(["job", "show", done.id])).stdout).toMatch(
      /retire\s+done\s+3\/3 \(3 applied, 0 refused\)/,
    );
    expect((await kf(["job", "list"])).stdout).toContain(done.id);
    const again = json<{ refused: number }>(
      await kf(["job", "start", "retire", "--group", "lot-j", "--json"]),
    );
    expect(again.refused).toBe(3); // already decommissioning: each device refuses, and says why
    expectRefused(
      await kf(["job", "start", "explode", "--group", "lot-j"]),
      /a job's command is one of/,
      "malformed-request",
    );
    expectRefused(
      await kf(["job", "start", "retire", "--group", "lot-j", "--cap", "2000000"]),
      /a job's cap is 1–1000000 devices/,
      "malformed-request",
    );
  });

  test("the public URL is the database's: set, recorded, and in the next certificate", async () => {
    const shown = json<{ publicUrl: string; server: unknown }>(await kf(["--json", "config", "show"]));
    expect(shown).toMatchObject({ publicUrl: "http://pki.example.test:8080", server: null });
    const set = await kf(["config", "set", "public-url", "http://pki2.example.test/"]);
    expect(set.stdout).toBe("public-url http://pki2.example.test (was http://pki.example.test:8080)\n");
    const history = json<{ publicUrlHistory: { oldValue: string; newValue: string; actor: string }[] }>(
      await kf(["--json", "config", "show"]),
    ).publicUrlHistory;
    expect(history[0]).toMatchObject({
      oldValue: "http://pki.example.test:8080",
      newValue: "http://pki2.example.test",
      actor: expect.stringMatching(/^cli:/),
    });
    const issued = await kf(["cert", "issue", "--csr", dir.file("device.csr")]);
    await dir.write("moved.pem", issued.stdout);
    expect((await openssl(["x509", "-in", dir.file("moved.pem"), "-noout", "-text"])).stdout).toContain(
      "URI:http://pki2.example.test/crl/",
    );
    for (const bad of [
      "ftp://x",
      "not a url",
      "http://user:pw@host",
      "http://host/?q=1",
      "http://host/?",
      "http://host/#",
      " http://host",
      "http:\\\\evil.com\\x",
      "http:host",
      "http://host/%zz",
      "http://host/a b",
    ]) {
      expectRefused(await kf(["config", "set", "public-url", bad]), /public URL/, "invalid-configuration");
    }
    expectRefused(
      await kf(["config", "set", "colour", "blue"]),
      /unknown setting "colour"/,
      "invalid-configuration",
    );
    expect(json<{ publicUrl: string }>(await kf(["--json", "config", "show"])).publicUrl).toBe(
      "http://pki2.example.test",
    );
  });
});

describe("keyfleet CLI: one error format, and help for every command", () => {
  test.each([
    [["cert", "issue", "--cssr", "x"], "unknown option '--cssr'; did you mean --csr?"],
    [["cert", "list", "--limti", "5"], "unknown option '--limti'; did you mean --limit?"],
    [["cert", "issue"], "required option '--csr <file>' not specified"],
    [["certs", "list"], "unknown command 'certs'; did you mean cert?"],
    [["cert", "issue", "--csr"], "option '--csr <file>' argument missing"],
  ])("%j is one line", async (args, message) => {
    expectRefused(await runCli(args), message, "malformed-request");
  });

  test("a misspelled keyfleet.yaml key is refused with the nearest valid key", async () => {
    const data = await mkdtemp(join(tmpdir(), "keyfleet-yaml-"));
    try {
      const { writeFile } = await import("node:fs/promises");
      await writeFile(join(data, "keyfleet.yaml"), "httpPrt: 9000\n");
      expectRefused(
        await runCli(["--data", data, "ca", "list"]),
        /unknown key "httpPrt"; did you mean "httpPort"\?/,
        "invalid-configuration",
      );
    } finally {
      await rm(data, { recursive: true, force: true });
    }
  });

  test("keyfleet help cert issue is that command's help, and every command's help shows --json and --data", async () => {
    const help = await runCli(["help", "cert", "issue"]);
    expect(help.code).toBe(0);
    expect(help.stdout).toBe((await runCli(["cert", "issue", "--help"])).stdout);
    expect(help.stdout).toMatch(/Usage: keyfleet cert issue/);
    const { program } = await import("../src/cli/main.js");
    const leaves = (c: ReturnType<typeof program>, path: string[]): string[][] =>
      c.commands.length ? c.commands.flatMap((s) => leaves(s as never, [...path, s.name()])) : [path];
    for (const path of leaves(program(), [])) {
      const res = await runCli([...path, "--help"]);
      expect(res.code, path.join(" ")).toBe(0);
      expect(res.stdout, path.join(" ")).toMatch(/--json/);
      expect(res.stdout, path.join(" ")).toMatch(/--data <dir>/);
    }
  });
});

describe("keyfleet CLI on PostgreSQL", () => {
  const schema = `kf_cli_${randomBytes(5).toString("hex")}`;
  let url: string;
  let env: NodeJS.ProcessEnv;
  let data: string;
  beforeAll(async () => {
    await adminQuery(inject("postgresUrl"), `create schema ${schema}`);
    const u = new URL(inject("postgresUrl"));
    u.searchParams.set("options", `-c search_path=${schema}`);
    url = u.toString();
    // Its own data directory: init writes the first admin token there (not into the checkout's).
    data = await mkdtemp(join(tmpdir(), "keyfleet-cli-pg-"));
    env = { ...passphrase, DATABASE_URL: url, KEYFLEET_DATA: data };
  });
  afterAll(async () => {
    await adminQuery(inject("postgresUrl"), `drop schema ${schema} cascade`);
    await rm(data, { recursive: true, force: true });
  });

  const tables = async () =>
    (
      await adminQuery(
        inject("postgresUrl"),
        "select count(*) as n from information_schema.tables where table_schema = $1",
        [schema],
      )
    ).rows[0].n;

  test("a read command on an empty database is not-initialized and creates nothing", async () => {
    expectRefused(
      await runCli(["ca", "list"], env),
      /holds no Keyfleet authority: run `keyfleet init`/,
      "not-initialized",
    );
    expectRefused(
      await runCli(["token", "create", "--role", "admin"], env),
      /holds no Keyfleet authority/,
      "not-initialized",
    );
    expect(Number(await tables())).toBe(0);
  });

  test("a database or a role that does not exist is said in words", async () => {
    const u = new URL(inject("postgresUrl"));
    u.pathname = "/no_such_database_kf";
    expectRefused(
      await runCli(["ca", "list"], { DATABASE_URL: u.toString() }),
      /database "no_such_database_kf" does not exist/,
      "store-unavailable",
    );
    const r = new URL(inject("postgresUrl"));
    r.username = "no_such_role_kf";
    expectRefused(
      await runCli(["ca", "list"], { DATABASE_URL: r.toString() }),
      /role "no_such_role_kf" does not exist/,
      "store-unavailable",
    );
  });

  test("init, issue and read on PostgreSQL; without KEYFLEET_PASSPHRASE reading works and signing is refused", async () => {
    expect((await runCli(["init", "--algorithm", "ed25519"], env)).code).toBe(0);
    expect(json<unknown[]>(await runCli(["--json", "ca", "list"], env))).toHaveLength(2);
    const dir = await workdir();
    try {
      await dir.write("d.csr", await opensslCsr(dir, "ed25519", "/CN=pg-device"));
      expect((await runCli(["cert", "issue", "--csr", dir.file("d.csr")], env)).code).toBe(0);
      const noPassphrase = { ...env, KEYFLEET_PASSPHRASE: "" };
      expect((await runCli(["cert", "list"], noPassphrase)).code).toBe(0);
      expectRefused(
        await runCli(["cert", "issue", "--csr", dir.file("d.csr")], noPassphrase),
        /KEYFLEET_PASSPHRASE/,
        "key-store-locked",
      );
    } finally {
      await dir.dispose();
    }
  });
});

test("token create's help names exactly the roles policy knows", async () => {
  const { roleHelp } = await import("../src/cli/commands/token.js");
  const { roles } = await import("../src/policy/index.js");
  expect(roleHelp).toBe(roles.join(" | "));
});
