/**
 * The CLI refuses bad option values with one line, a code and exit 1, and changes nothing: token
 * lifetimes, device registrations, page sizes and cursors, validity and request ids (review 2).
 * Commands run in this process (`main()`); test/cli-process.test.ts covers what needs a process.
 */
import { randomBytes } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, inject, test } from "vitest";
import { openDatabase } from "../src/store/database.js";
import type { DatabaseKind } from "../src/store/index.js";
import { adminQuery, databaseKinds } from "./support/databases.js";
import { runCli, type CliResult } from "./support/cli.js";
import { testManufacturer } from "./support/idevid.js";
import { opensslCsr, workdir, type Workdir } from "./support/openssl.js";

const passphrase = { KEYFLEET_PASSPHRASE: "cli bad input passphrase" };
const tables = ["api_tokens", "devices", "certificates"] as const;
type Counts = Record<(typeof tables)[number], number>;

interface Target {
  readonly env: NodeJS.ProcessEnv;
  counts(): Promise<Counts>;
  dispose(): Promise<void>;
}

/** A data directory on PGlite, or one whose DATABASE_URL is a fresh PostgreSQL schema. */
async function target(kind: DatabaseKind, data: string): Promise<Target> {
  if (kind === "pglite") {
    return {
      env: passphrase,
      counts: async () => {
        // Opened only between commands: PGlite has one owner at a time.
        const database = await openDatabase({ dataDir: join(data, "pglite") });
        try {
          const counts = {} as Counts;
          for (const table of tables) {
            const row = await database.db
              .selectFrom(table)
              .select((eb) => eb.fn.countAll<string>().as("n"))
              .executeTakeFirstOrThrow();
            counts[table] = Number(row.n);
          }
          return counts;
        } finally {
          await database.close();
        }
      },
      dispose: async () => undefined,
    };
  }
  const url = inject("postgresUrl");
  const schema = `kf_badin_${randomBytes(5).toString("hex")}`;
  await adminQuery(url, `create schema ${schema}`);
  const u = new URL(url);
  u.searchParams.set("options", `-c search_path=${schema}`);
  return {
    env: { ...passphrase, DATABASE_URL: u.toString() },
    counts: async () => {
      const counts = {} as Counts;
      for (const table of tables) {
        counts[table] = Number(
          (await adminQuery(url, `select count(*) as n from ${schema}.${table}`)).rows[0].n,
        );
      }
      return counts;
    },
    dispose: () => adminQuery(url, `drop schema ${schema} cascade`).then(() => undefined),
  };
}

/** One line on stderr naming the code, nothing on stdout, exit 1. */
function expectRefused(res: CliResult, message: RegExp, code = "malformed-request"): void {
  expect(res.stdout).toBe("");
  expect(res.stderr).toMatch(/^keyfleet: [^\n]*\n$/);
  expect(res.stderr).not.toContain("unexpected error");
  expect(res.stderr).toMatch(message);
  expect(res.stderr).toContain(`(${code})\n`);
  expect(res.code).toBe(1);
}

for (const kind of databaseKinds) {
  describe(`keyfleet CLI bad input [${kind}]`, () => {
    let data: string;
    let dir: Workdir;
    let t: Target;
    let kf: (args: readonly string[]) => Promise<CliResult>;

    beforeAll(async () => {
      data = await mkdtemp(join(tmpdir(), "keyfleet-cli-bad-"));
      dir = await workdir();
      t = await target(kind, data);
      kf = (args) => runCli(["--data", data, ...args], t.env);
      expect((await kf(["init"])).code).toBe(0);
      await dir.write("device.csr", await opensslCsr(dir, "p256", "/CN=bad-input-device"));
    });
    afterAll(async () => {
      await t.dispose();
      await rm(data, { recursive: true, force: true });
      await dir.dispose();
    });

    /** Runs each refused command and checks that no table changed. */
    async function refusesAll(cases: readonly (readonly [readonly string[], RegExp])[]): Promise<void> {
      const before = await t.counts();
      for (const [args, message] of cases) {
        const res = await kf(args);
        expectRefused(res, message);
      }
      expect(await t.counts()).toEqual(before);
    }

    test("refuses a token lifetime that is not a positive whole number of days, and creates no token", async () => {
      await refusesAll(
        ["0", "-1", "abc", "1.5", "0x10", "", "1e3", " 5"].map(
          (v) =>
            [
              ["token", "create", "--role", "auditor", "--ttl-days", v],
              /--ttl-days must be a whole number/,
            ] as const,
        ),
      );
    });

    test("a token with --ttl-days shows when it expires in --json, and the token alone otherwise", async () => {
      const before = Date.now();
      const json = await kf(["--json", "token", "create", "--role", "auditor", "--ttl-days", "30"]);
      expect(json.code).toBe(0);
      const created = JSON.parse(json.stdout) as { token: string; expiresAt: string | null };
      const expires = new Date(created.expiresAt!).getTime();
      expect(expires).toBeGreaterThanOrEqual(before + 30 * 86400_000);
      expect(expires).toBeLessThanOrEqual(Date.now() + 30 * 86400_000);

      const usual = JSON.parse((await kf(["--json", "token", "create", "--role", "auditor"])).stdout) as {
        expiresAt: string | null;
      };
      expect(Date.parse(usual.expiresAt!)).toBeGreaterThanOrEqual(before + 90 * 86400_000);
      const forever = JSON.parse(
        (await kf(["--json", "token", "create", "--role", "auditor", "--ttl-days", "never"])).stdout,
      ) as { expiresAt: string | null };
      expect(forever.expiresAt).toBeNull();

      const plain = await kf(["token", "create", "--role", "auditor", "--ttl-days", "1"]);
      expect(plain.stdout).toMatch(/^kf_[A-Za-z0-9_-]{43}\n$/);
    });

    test("refuses bad device registrations with one line and registers nothing", async () => {
      const garbage = await dir.write("garbage.der", new Uint8Array([0x30, ...Buffer.from("garbage")]));
      await refusesAll([
        [
          ["device", "register", "--serial", "SN-M1", "--manufacturer", "m".repeat(5000)],
          /device manufacturer/,
        ],
        [["device", "register", "--serial", "SN-M2", "--manufacturer", "a\x01b"], /device manufacturer/],
        [["device", "register", "--serial", " SN-LEAD"], /device serial/],
        [["device", "register", "--serial", "SN-TRAIL "], /device serial/],
        [
          ["device", "register", "--serial", "SN-G", "--idevid", garbage],
          /IDevID is not an X\.509 certificate/,
        ],
      ]);
    });

    test("a file that is not there is not-found, and registers nothing", async () => {
      const before = await t.counts();
      const res = await kf(["device", "register", "--serial", "SN-N", "--idevid", dir.file("missing.pem")]);
      expectRefused(res, /no file .*missing\.pem/, "not-found");
      expect(await t.counts()).toEqual(before);
    });

    test("registers a device with a manufacturer and a real IDevID; an unregistered manufacturer is one line", async () => {
      const maker = testManufacturer("Acme Devices");
      await dir.write("acme-ca.der", maker.ca.der);
      await dir.write("idevid.der", maker.idevid("SN-IDEVID"));
      const register = [
        "device",
        "register",
        "--serial",
        "SN-IDEVID",
        "--manufacturer",
        "Acme Devices",
        "--idevid",
        dir.file("idevid.der"),
      ];
      expectRefused(
        await kf(register),
        /manufacturer "Acme Devices" is not registered/,
        "unknown-manufacturer",
      );
      const added = await kf(["manufacturer", "add", "Acme Devices", "--ca", dir.file("acme-ca.der")]);
      expect(added.stdout).toMatch(
        /^Acme Devices {2}[0-9a-f-]{36}\n {2}CA O=Keyfleet Path Test, CN=Acme Devices IDevID CA {2}until /,
      );
      const res = await kf(["--json", ...register]);
      expect(res.code).toBe(0);
      expect(JSON.parse(res.stdout)).toMatchObject({ manufacturer: "Acme Devices", hasIdevid: true });
    });

    test("refuses list page sizes and cursors out of range with one line, no SQL error", async () => {
      const limits = ["abc", "0", "-5", "501", "100000", "1.5", "0x10", ""];
      await refusesAll([
        ...limits.map(
          (v) => [["cert", "list", "--limit", v], /--limit must be a whole number from 1 to 500/] as const,
        ),
        ...limits.map(
          (v) => [["device", "list", "--limit", v], /--limit must be a whole number from 1 to 500/] as const,
        ),
        // The cursor is the serial that ended the previous page: anything else is refused.
        ...["abc", "99999999999999999999999", "1.5", "-1", "", "g0"].map(
          (v) =>
            [
              ["cert", "list", "--after", v],
              /after must be the `next` cursor|is not a certificate serial|out of range/,
            ] as const,
        ),
        [["device", "list", "--after", "a\nb"], /--after must be a device id/],
      ]);
    });

    test("pages through certificates and devices with --limit and --after", async () => {
      const first = await kf(["--json", "cert", "list", "--limit", "1"]);
      const page = JSON.parse(first.stdout) as { items: { serial: string }[]; next: string };
      expect(page.items).toHaveLength(1);
      expect(page.next).toBe(page.items[0]!.serial); // the cursor is the serial that ended the page
      const second = JSON.parse(
        (await kf(["--json", "cert", "list", "--limit", "1", "--after", page.next])).stdout,
      ) as {
        items: { serial: string }[];
      };
      expect(second.items).toHaveLength(1);
      expect(second.items[0]!.serial).not.toBe(page.items[0]!.serial);

      for (const serial of ["SN-P1", "SN-P2"])
        expect((await kf(["device", "register", "--serial", serial])).code).toBe(0);
      const devices = JSON.parse((await kf(["--json", "device", "list", "--limit", "500"])).stdout) as {
        id: string;
      }[];
      expect(devices.length).toBeGreaterThanOrEqual(2);
      const rest = JSON.parse((await kf(["--json", "device", "list", "--after", devices[0]!.id])).stdout) as {
        id: string;
      }[];
      expect(rest.map((d) => d.id)).toEqual(devices.slice(1).map((d) => d.id));
    });

    test("refuses a validity that is not a positive whole number of days, and issues nothing", async () => {
      await refusesAll(
        ["0x10", "1.5", "abc", "0", "-1", "", "1e2"].map(
          (v) =>
            [
              ["cert", "issue", "--csr", dir.file("device.csr"), "--validity-days", v],
              /--validity-days must be a whole number/,
            ] as const,
        ),
      );
    });

    test("refuses a request id that is not 1–200 printable ASCII characters, and issues nothing", async () => {
      await refusesAll(
        ["", "r".repeat(201), "a\nb", "tab\there", "with space", "é"].map(
          (v) =>
            [
              ["cert", "issue", "--csr", dir.file("device.csr"), "--request-id", v],
              /request id is 1–200 printable ASCII characters/,
            ] as const,
        ),
      );
      const ok = await kf([
        "--json",
        "cert",
        "issue",
        "--csr",
        dir.file("device.csr"),
        "--validity-days",
        "2",
        "--request-id",
        "r~".repeat(100),
      ]);
      expect(ok.code).toBe(0);
      const issued = JSON.parse(ok.stdout) as { requestId: string; notBefore: string; notAfter: string };
      expect(issued.requestId).toBe("r~".repeat(100));
      expect(Date.parse(issued.notAfter) - Date.parse(issued.notBefore)).toBeLessThanOrEqual(
        2 * 86400_000 + 3600_000,
      );
    });
  });
}
