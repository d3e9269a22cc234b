/**
 * The CLI beside a running `keyfleet serve` on the embedded default: commands go through the
 * server's control socket and print what they print with the server stopped; a control socket
 * anyone else could have made is refused; a restart keeps everything.
 */
import { request } from "node:https";
import { chmod, lstat, mkdtemp, readdir, readFile, rm, stat, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { keyfleetServe, runCli, stop, type CliResult } from "./support/cli.js";
import { opensslCsr, workdir, type Workdir } from "./support/openssl.js";

const passphrase = { KEYFLEET_PASSPHRASE: "cli server test passphrase" };
const ports = ["--https-port", "0", "--http-port", "0"];

/** Every file under `dir` with its size and modification time: what "left as it was" means. */
async function listing(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  return Promise.all(
    entries.map(async (e) => {
      const s = await stat(join(e.parentPath, e.name));
      return `${join(e.parentPath, e.name)} ${s.size} ${s.mtimeMs}`;
    }),
  ).then((lines) => lines.sort());
}

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

/** What a command printed, with the values that differ on every run (ids, tokens, serials, times) masked. */
function shape(res: CliResult): CliResult {
  const mask = (s: string) =>
    s
      .replace(/kf_[A-Za-z0-9_-]{43}/g, "<token>")
      .replace(/SN-[a-z0-9]{6}\b/g, "<serial number>")
      .replace(/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/g, "<uuid>")
      .replace(/\d{4}-\d\d-\d\dT[\d:.]+Z/g, "<time>")
      .replace(/"serial": "[0-9A-Fa-f]+"/g, '"serial": "<serial>"')
      .replace(/"fingerprintSha256": "[0-9a-f]+"/g, '"fingerprintSha256": "<fp>"')
      .replace(/-----BEGIN CERTIFICATE-----[^-]+-----END CERTIFICATE-----/g, "<pem>")
      .replace(/"pem": "[^"]+"/g, '"pem": "<pem>"');
  return { code: res.code, stdout: mask(res.stdout), stderr: mask(res.stderr) };
}

describe("keyfleet CLI beside a running server [pglite]", () => {
  let data: string;
  let dir: Workdir;
  const kf = (args: string[]) => runCli(["--data", data, ...args], passphrase);

  /** The commands of the "done when", each one run the same way with and without a server. */
  async function session(device: string): Promise<CliResult[]> {
    return [
      shape(
        await kf([
          "--json",
          "device",
          "register",
          "--serial",
          `SN-${Math.random().toString(36).slice(2, 8)}`,
        ]),
      ),
      shape(await kf(["token", "create", "--role", "auditor", "--ttl-days", "7"])),
      shape(await kf(["--json", "cert", "issue", "--csr", dir.file("device.csr"), "--device", device])),
      await kf(["ca", "chain"]),
      await kf(["--json", "ca", "list"]),
      shape(await kf(["device", "show", device])),
      // refusals: the same line and code whichever process refused
      await kf(["cert", "issue", "--csr", dir.file("junk.csr")]),
      await kf(["device", "register", "--serial", "SN-TAKEN"]),
      await kf(["token", "revoke", "00000000-0000-4000-8000-000000000000"]),
      await kf(["init"]),
    ];
  }

  beforeAll(async () => {
    data = join(await mkdtemp(join(tmpdir(), "keyfleet-beside-")), "data");
    dir = await workdir();
    expect((await kf(["init"])).code).toBe(0);
    await dir.write("device.csr", await opensslCsr(dir, "p256", "/CN=beside"));
    await dir.write("junk.csr", "not a CSR");
    expect((await kf(["device", "register", "--serial", "SN-TAKEN"])).code).toBe(0);
  });
  afterAll(async () => {
    await rm(join(data, ".."), { recursive: true, force: true });
    await dir.dispose();
  });

  test("register, token create/list/revoke, cert issue and ca chain work through the server, with the output they have without it", async () => {
    // One device per session: its first certificate is an `issue` transition, the same either way.
    const device = (await kf(["device", "register", "--serial", "SN-beside"])).stdout.trim();
    const other = (await kf(["device", "register", "--serial", "SN-besid2"])).stdout.trim();
    const stopped = await session(device);
    const tokensBefore = (JSON.parse((await kf(["--json", "token", "list"])).stdout) as { items: unknown[] })
      .items.length;

    const server = await keyfleetServe(["--data", data, ...ports], passphrase);
    try {
      expect(server.banner).not.toContain("first admin token");
      const running = await session(other);
      expect(running).toEqual(stopped);
      expect(running.slice(6).map((r) => r.stderr)).toEqual([
        expect.stringMatching(/\(malformed-request\)\n$/),
        expect.stringMatching(/already registered.*\(conflict\)\n$/),
        expect.stringMatching(/no token .*\(not-found\)\n$/),
        "keyfleet: already initialized: the CAs exist (see `keyfleet ca list`) (conflict)\n",
      ]);

      // The token made through the server is listed, works on the API, and stops working once revoked.
      const created = JSON.parse((await kf(["--json", "token", "create", "--role", "auditor"])).stdout) as {
        id: string;
        token: string;
      };
      const listed = JSON.parse((await kf(["--json", "token", "list"])).stdout) as {
        items: { id: string }[];
      };
      expect(listed.items).toHaveLength(tokensBefore + 2);
      expect(listed.items[0]!.id).toBe(created.id);

      const shown = JSON.parse((await kf(["--json", "config", "show"])).stdout) as {
        server: { adminUrl: string; publicHttpUrl: string };
      };
      const ca = await readFile(join(data, "ca-chain.pem"), "utf8");
      const certs = async () =>
        new Promise<number>((resolve, reject) => {
          request(
            `${shown.server.adminUrl}/api/v1/certificates`,
            { ca, headers: { authorization: `Bearer ${created.token}` } },
            (res) => {
              res.resume();
              resolve(res.statusCode ?? 0);
            },
          )
            .on("error", reject)
            .end();
        });
      expect(await certs()).toBe(200);
      expect((await kf(["token", "revoke", created.id])).code).toBe(0);
      expect(await certs()).toBe(401);
      expect(await httpsGet(`${shown.server.adminUrl}/healthz`, ca)).toEqual({
        status: 200,
        body: '{"status":"ok"}',
      });
    } finally {
      await stop(server.child);
    }
    expect(server.output()).not.toContain((await readFile(join(data, "admin-token"), "utf8")).trim());
    // After the server stops the CLI opens the database itself again, and everything is there.
    const after = JSON.parse((await kf(["--json", "token", "list"])).stdout) as { items: unknown[] };
    expect(after.items).toHaveLength(tokensBefore + 2);
  });

  test("a control socket with the wrong mode, or in a directory others can write, is refused", async () => {
    const server = await keyfleetServe(["--data", data, ...ports], passphrase);
    try {
      const socket = join(data, "control.sock");
      await chmod(socket, 0o666);
      const loose = await kf(["ca", "list"]);
      expect(loose.stderr).toBe(
        `keyfleet: refusing the control socket ${socket}: its mode is 0666, not 0600 (invalid-configuration)\n`,
      );
      await chmod(socket, 0o600);
      await chmod(data, 0o777);
      const open = await kf(["ca", "list"]);
      expect(open.stderr).toMatch(/is writable by others \(mode 0777\).*\(invalid-configuration\)\n$/);
      await chmod(data, 0o700);
      expect((await kf(["ca", "list"])).code).toBe(0);
    } finally {
      await chmod(data, 0o700);
      await stop(server.child);
    }
  });

  test("serve replaces a link planted at ca-chain.pem with the chain, and leaves the link's target alone", async () => {
    const target = join(data, "..", "not-the-chain");
    await writeFile(target, "someone else's file\n", { mode: 0o600 });
    await rm(join(data, "ca-chain.pem"), { force: true }); // an earlier start's
    await symlink(target, join(data, "ca-chain.pem"));
    const server = await keyfleetServe(["--data", data, ...ports], passphrase);
    try {
      const chain = await lstat(join(data, "ca-chain.pem"));
      expect(chain.isFile()).toBe(true);
      expect(chain.mode & 0o777).toBe(0o644); // public: what HTTPS clients trust
      expect((await readFile(join(data, "ca-chain.pem"), "utf8")).match(/BEGIN CERTIFICATE/g)).toHaveLength(
        2,
      );
      expect(await readFile(target, "utf8")).toBe("someone else's file\n");
      expect((await readdir(data)).filter((name) => name.endsWith(".tmp"))).toEqual([]);
    } finally {
      await stop(server.child);
    }
  });

  test("the server refuses to start in a data directory others can write, and leaves it as it was", async () => {
    const before = await listing(data);
    await chmod(data, 0o770);
    try {
      await expect(keyfleetServe(["--data", data, ...ports], passphrase)).rejects.toThrow(
        /keyfleet: the data directory .* is writable by others \(mode 0770\): run `chmod 700 .*` \(invalid-configuration\)/,
      );
      expect(await listing(data)).toEqual(before);
    } finally {
      await chmod(data, 0o700);
    }
  });
});
