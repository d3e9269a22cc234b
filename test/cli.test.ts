import { randomBytes } from "node:crypto";
import { request } from "node:https";
import { mkdtemp, readFile, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, inject, test } from "vitest";
import { adminQuery } from "./support/databases.js";
import { keyfleet, keyfleetServe, stop } from "./support/cli.js";
import { openssl, opensslCsr, workdir, type Workdir } from "./support/openssl.js";

const passphrase = { KEYFLEET_PASSPHRASE: "cli test passphrase" };

function httpsGet(url: string, ca: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    request(url, { ca }, (res) => {
      let body = "";
      res.on("data", (c: Buffer) => (body += c.toString()));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body }));
    })
      .on("error", reject)
      .end();
  });
}

interface ListedCertificate {
  readonly serial: string;
  readonly profile: string;
  readonly subject: string;
}

function certificateList(res: { code: number; stdout: string }): ListedCertificate[] {
  expect(res.code).toBe(0);
  return (JSON.parse(res.stdout) as { items: ListedCertificate[] }).items;
}

describe("keyfleet CLI on PGlite", () => {
  let data: string;
  let dir: Workdir;
  const kf = (args: string[], env: NodeJS.ProcessEnv = passphrase) =>
    keyfleet(["--data", data, ...args], env);

  beforeAll(async () => {
    data = await mkdtemp(join(tmpdir(), "keyfleet-cli-"));
    dir = await workdir();
  });
  afterAll(async () => {
    await rm(data, { recursive: true, force: true });
    await dir.dispose();
  });

  test("init, ca chain, cert issue: openssl verifies what the CLI printed", async () => {
    const init = await kf(["init", "--algorithm", "p384"]);
    expect(init.stderr).toBe("");
    expect(init.code).toBe(0);
    expect(init.stdout).toMatch(/root CA\s+ca-[0-9a-f]+\s+p384/);
    expect((await stat(join(data, "admin-token"))).mode & 0o777).toBe(0o600);

    const chain = await kf(["ca", "chain"]);
    expect(chain.stdout.match(/BEGIN CERTIFICATE/g)).toHaveLength(2);
    const [issuing, root] = chain.stdout.split(/(?<=-----END CERTIFICATE-----\n)/);
    await dir.write("issuing.pem", issuing!);
    await dir.write("root.pem", root!);

    await dir.write("device.csr", await opensslCsr(dir, "p256", "/CN=cli-device"));
    const issued = await kf(["cert", "issue", "--csr", dir.file("device.csr")]);
    expect(issued.code).toBe(0);
    await dir.write("leaf.pem", issued.stdout);
    const verify = await openssl([
      "verify",
      "-x509_strict",
      "-CAfile",
      dir.file("root.pem"),
      "-untrusted",
      dir.file("issuing.pem"),
      dir.file("leaf.pem"),
    ]);
    expect(verify.stdout).toContain(": OK");

    const serial = (await openssl(["x509", "-in", dir.file("leaf.pem"), "-noout", "-serial"])).stdout
      .trim()
      .replace("serial=", "");
    const shown = JSON.parse((await kf(["--json", "cert", "show", serial])).stdout) as {
      serial: string;
      status: string;
    };
    expect(shown).toMatchObject({ serial, status: "good" });
    expect((await kf(["cert", "list"])).stdout).toContain(serial);
  });

  test("a command on a data directory that does not exist fails and creates nothing", async () => {
    const missing = join(data, "typo", "keyfleet-data");
    const res = await keyfleet(["--data", missing, "ca", "list"], {});
    expect(res.code).toBe(1);
    expect(res.stdout).toBe("");
    expect(res.stderr).toBe(
      `keyfleet: no Keyfleet data in ${missing}: run \`keyfleet init\` there first, or point --data (KEYFLEET_DATA) at an existing data directory (not-initialized)\n`,
    );
    await expect(stat(join(data, "typo"))).rejects.toMatchObject({ code: "ENOENT" });
  });

  test("on the development key store, a failing command still prints one line", async () => {
    const res = await keyfleet(["--data", data, "cert", "show", "00"], {});
    expect(res.code).toBe(1);
    expect(res.stderr.trim().split("\n")).toHaveLength(1);
  });

  test("init twice fails with one line and a non-zero exit", async () => {
    const again = await kf(["init"]);
    expect(again.code).not.toBe(0);
    expect(again.stderr.trim().split("\n")).toHaveLength(1);
    expect(again.stderr).toContain("already initialized");
  });

  test("refuses bad input with one line: malformed CSR, wrong passphrase, unknown profile", async () => {
    await dir.write("junk.csr", "this is not a CSR");
    const junk = await kf(["cert", "issue", "--csr", dir.file("junk.csr")]);
    expect(junk.code).toBe(1);
    expect(junk.stderr).toMatch(/^keyfleet: .*\(malformed-request\)\n$/);

    const locked = await kf(["cert", "issue", "--csr", dir.file("device.csr")], {
      KEYFLEET_PASSPHRASE: "wrong",
    });
    expect(locked.code).toBe(1);
    expect(locked.stderr).toMatch(/^keyfleet: .*wrong passphrase.*\(key-store-locked\)\n$/);

    const profile = await kf(["cert", "issue", "--csr", dir.file("device.csr"), "--profile", "nope"]);
    expect(profile.stderr).toMatch(/unknown profile "nope".*\(unknown-profile\)/);
    const list = JSON.parse((await kf(["--json", "cert", "list"])).stdout) as { items: unknown[] };
    expect(list.items).toHaveLength(1 + 2); // the one leaf and the two CA certificates
  });

  test("token create and device register print the value alone", async () => {
    const token = await kf(["token", "create", "--role", "operator", "--scope", "tenant=acme"]);
    expect(token.stdout).toMatch(/^kf_[A-Za-z0-9_-]{43}\n$/);
    const bad = await kf(["token", "create", "--role", "superuser"]);
    expect(bad.stderr).toContain('unknown role "superuser"');
    const id = (await kf(["device", "register", "--serial", "SN-1", "--model", "m1"])).stdout.trim();
    expect(id).toMatch(/^[0-9a-f-]{36}$/);
    const dup = await kf(["device", "register", "--serial", "SN-1"]);
    expect(dup.stderr).toContain("(conflict)");
    const bound = await kf(["--json", "cert", "issue", "--csr", dir.file("device.csr"), "--device", id]);
    expect(JSON.parse(bound.stdout)).toMatchObject({
      deviceId: id,
      subject: expect.stringContaining("serialNumber=SN-1"),
    });
  });

  test("serve answers over HTTPS with a certificate from its own CA, and a restart keeps every CA and certificate", async () => {
    const cas = (await kf(["--json", "ca", "list"])).stdout;
    const certificates = certificateList(await kf(["--json", "cert", "list"]));
    expect(certificates.length).toBeGreaterThan(0);
    const ports = ["--https-port", "0", "--http-port", "0", "--public-url", "http://127.0.0.1:18080"];
    const server = await keyfleetServe(["--data", data, ...ports], passphrase);
    try {
      const api = /admin API\s+(https:\/\/\S+?)\/api\/v1\//.exec(server.banner)![1]!;
      const chain =
        (await readFile(dir.file("issuing.pem"), "utf8")) + (await readFile(dir.file("root.pem"), "utf8"));
      expect(await httpsGet(`${api}/healthz`, chain)).toEqual({ status: 200, body: '{"status":"ok"}' });
      expect((await httpsGet(`${api}/readyz`, chain)).status).toBe(200);
      // The chain the server wrote is the one clients need.
      expect(await readFile(join(data, "ca-chain.pem"), "utf8")).toBe(chain);
      // PGlite is one process's database: a command beside the server is refused, and writes nothing.
      const beside = await kf(["token", "create", "--role", "auditor"]);
      expect(beside.code).toBe(1);
      expect(beside.stdout).toBe("");
      expect(beside.stderr.trim().split("\n").at(-1)).toMatch(
        new RegExp(`already open in another process \\(pid ${server.child.pid}\\).*\\(store-unavailable\\)$`),
      );
    } finally {
      await stop(server.child);
    }
    expect(server.output()).not.toContain((await readFile(join(data, "admin-token"), "utf8")).trim());
    expect((await kf(["--json", "ca", "list"])).stdout).toBe(cas);
    // Every certificate is still there, unchanged; serve added its own TLS server certificate.
    const after = certificateList(await kf(["--json", "cert", "list"]));
    expect(after).toEqual(expect.arrayContaining(certificates));
    expect(after.filter((c) => !certificates.some((b) => b.serial === c.serial))).toMatchObject([
      { profile: "tls-server" },
    ]);
  });
});

describe("keyfleet CLI on PostgreSQL", () => {
  const schema = `kf_cli_${randomBytes(5).toString("hex")}`;
  let data: string;
  let env: NodeJS.ProcessEnv;
  beforeAll(async () => {
    const url = inject("postgresUrl");
    await adminQuery(url, `create schema ${schema}`);
    const u = new URL(url);
    u.searchParams.set("options", `-c search_path=${schema}`);
    env = { ...passphrase, DATABASE_URL: u.toString() };
    data = await mkdtemp(join(tmpdir(), "keyfleet-cli-pg-"));
  });
  afterAll(async () => {
    await adminQuery(inject("postgresUrl"), `drop schema ${schema} cascade`);
    await rm(data, { recursive: true, force: true });
  });

  test("init then serve work on PostgreSQL, and a restart keeps every CA and certificate", async () => {
    const init = await keyfleet(["--data", data, "init", "--algorithm", "ed25519"], env);
    expect(init.code).toBe(0);
    const cas = (await keyfleet(["--data", data, "--json", "ca", "list"], env)).stdout;
    expect(JSON.parse(cas)).toHaveLength(2);
    const dir = await workdir();
    try {
      await dir.write("d.csr", await opensslCsr(dir, "ed25519", "/CN=pg-device"));
      expect((await keyfleet(["--data", data, "cert", "issue", "--csr", dir.file("d.csr")], env)).code).toBe(
        0,
      );
    } finally {
      await dir.dispose();
    }
    const certificates = certificateList(await keyfleet(["--data", data, "--json", "cert", "list"], env));
    const server = await keyfleetServe(["--data", data, "--https-port", "0", "--http-port", "0"], env);
    await stop(server.child);
    expect(server.banner).toContain("postgres database");
    expect((await keyfleet(["--data", data, "--json", "ca", "list"], env)).stdout).toBe(cas);
    const after = certificateList(await keyfleet(["--data", data, "--json", "cert", "list"], env));
    expect(certificates.map((c) => c.profile).sort()).toEqual(["device", "issuing-ca", "root-ca"]);
    expect(after).toEqual(expect.arrayContaining(certificates));
  });

  test("without KEYFLEET_PASSPHRASE, PostgreSQL refuses to make keys (no development KEK file in production)", async () => {
    const noPassphrase = { ...env, KEYFLEET_PASSPHRASE: "" };
    const res = await keyfleet(["--data", data, "cert", "list"], {
      ...noPassphrase,
      KEYFLEET_PASSPHRASE: "",
    });
    expect(res.code).toBe(0); // reading needs no key
    const dir = await workdir();
    try {
      await dir.write("d.csr", await opensslCsr(dir, "p256"));
      const issue = await keyfleet(["--data", data, "cert", "issue", "--csr", dir.file("d.csr")], {
        ...noPassphrase,
        KEYFLEET_PASSPHRASE: "",
      });
      expect(issue.stderr).toMatch(/KEYFLEET_PASSPHRASE.*\(key-store-locked\)/);
    } finally {
      await dir.dispose();
    }
  });
});
