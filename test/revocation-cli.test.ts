/**
 * `keyfleet cert revoke` and `cert release` as an operator types them: one line on what changed
 * (or that nothing did), one `keyfleet: … (code)` line for each mistake, nothing changed by it.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, expect, test } from "vitest";
import { runCli } from "./support/cli.js";
import { opensslCsr, workdir, type Workdir } from "./support/openssl.js";

const passphrase = { KEYFLEET_PASSPHRASE: "revocation cli test passphrase" };
let root: string;
let dir: Workdir;
const kf = (args: string[]) => runCli(["--data", join(root, "data"), ...args], passphrase);

const issue = async (cn: string): Promise<string> => {
  await dir.write(`${cn}.csr`, await opensslCsr(dir, "p256", `/CN=${cn}`));
  const res = await kf(["--json", "cert", "issue", "--csr", dir.file(`${cn}.csr`), "--profile", "client"]);
  expect(res.stderr).toBe("");
  return (JSON.parse(res.stdout) as { serial: string }).serial;
};

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), "keyfleet-revoke-cli-"));
  dir = await workdir();
  expect((await kf(["init"])).code).toBe(0);
});
afterAll(async () => {
  await dir?.dispose();
  await rm(root, { recursive: true, force: true });
});

test("revoke prints the new status; the same again says it was unchanged; show has the reason", async () => {
  const serial = await issue("cli-revoke");
  const first = await kf([
    "cert",
    "revoke",
    serial,
    "--reason",
    "keyCompromise",
    "--invalidity-date",
    "2026-01-02T03:04:05Z",
    "--comment",
    "key found on a forum",
  ]);
  expect(first.stderr).toBe("");
  expect(first.stdout.trim()).toMatch(new RegExp(`^${serial}  revoked \\(keyCompromise\\) since \\S+Z$`));
  const again = await kf(["cert", "revoke", serial, "--reason", "keyCompromise"]);
  expect(again.stdout).toContain("(unchanged: it already was)");
  const shown = JSON.parse((await kf(["--json", "cert", "show", serial])).stdout) as Record<string, unknown>;
  expect(shown).toMatchObject({
    status: "revoked",
    revocation: { reason: "keyCompromise", invalidityDate: "2026-01-02T03:04:05.000Z" },
  });
});

test("hold and release a certificate bound to no device", async () => {
  const serial = await issue("cli-hold");
  expect((await kf(["cert", "revoke", serial, "--reason", "certificateHold"])).stdout).toContain(
    "hold (certificateHold)",
  );
  expect((await kf(["cert", "release", serial])).stdout.trim()).toBe(`${serial}  good`);
});

test("mistakes are one line each and change nothing", async () => {
  const serial = await issue("cli-mistakes");
  const cases: [string[], RegExp][] = [
    [
      ["cert", "revoke", serial, "--reason", "lost"],
      /^keyfleet: unknown revocation reason "lost"; use one of .* \(malformed-request\)$/,
    ],
    [["cert", "revoke", serial], /^keyfleet: .*--reason.*$/],
    [
      ["cert", "revoke", serial, "--reason", "keyCompromise", "--invalidity-date", "yesterday"],
      /^keyfleet: --invalidity-date must be an ISO 8601 time with its zone, .* \(malformed-request\)$/,
    ],
    [
      ["cert", "revoke", "zz", "--reason", "superseded"],
      /^keyfleet: "zz" is not a certificate serial number.*\(malformed-request\)$/,
    ],
    [
      ["cert", "revoke", "0a".repeat(16), "--reason", "superseded"],
      /^keyfleet: no certificate with serial .* \(not-found\)$/,
    ],
  ];
  for (const [args, expected] of cases) {
    const res = await kf(args);
    expect(res.code, args.join(" ")).not.toBe(0);
    expect(res.stderr.trim(), args.join(" ")).toMatch(expected);
    expect(res.stderr.trim().split("\n")).toHaveLength(1);
  }
  const shown = JSON.parse((await kf(["--json", "cert", "show", serial])).stdout) as { status: string };
  expect(shown.status).toBe("good");
  await kf(["cert", "revoke", serial, "--reason", "superseded"]);
  const undo = await kf(["cert", "release", serial]);
  expect(undo.stderr.trim()).toMatch(
    /^keyfleet: certificate .* was revoked \(superseded\) at .*: a revocation is final \(conflict\)$/,
  );
});
