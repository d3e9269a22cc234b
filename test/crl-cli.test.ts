/**
 * `keyfleet crl publish`: a full CRL of every active CA, written as <ca>.crl (DER, 0644) into the
 * data directory's crl/ or --out DIR, each numbered from its own sequence and verified by openssl
 * against the chain; an unknown CA is refused in one line and writes nothing.
 */
import { mkdtemp, readdir, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, expect, test } from "vitest";
import { runCli } from "./support/cli.js";
import { openssl } from "./support/openssl.js";

const passphrase = { KEYFLEET_PASSPHRASE: "crl cli test passphrase" };
let root: string;
const kf = (args: string[]) => runCli(["--data", join(root, "data"), ...args], passphrase);

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), "keyfleet-crl-cli-"));
  expect((await kf(["init"])).code).toBe(0);
});
afterAll(() => rm(root, { recursive: true, force: true }));

test("publishes a full CRL and a delta of each CA that openssl verifies, numbered 1 and 2, then 3 and 4", async () => {
  const chain = join(root, "chain.pem");
  await writeFile(chain, JSON.parse((await kf(["--json", "ca", "chain"])).stdout).pem);
  const cas = (JSON.parse((await kf(["--json", "ca", "list"])).stdout) as { id: string }[]).map((c) => c.id);
  for (const [fullNumber, deltaNumber] of [
    ["1", "2"],
    ["3", "4"],
  ]) {
    const res = await kf(["--json", "crl", "publish"]);
    expect(res.stderr).toBe("");
    const published = JSON.parse(res.stdout) as {
      issuerId: string;
      kind: string;
      number: string;
      file: string;
    }[];
    expect(published.map((p) => `${p.issuerId} ${p.kind}`).sort()).toEqual(
      cas.flatMap((ca) => [`${ca} delta`, `${ca} full`]).sort(),
    );
    for (const p of published) {
      const expected = p.kind === "full" ? fullNumber : deltaNumber;
      expect(p.number).toBe(expected);
      expect(p.file).toBe(
        join(root, "data", "crl", `${p.issuerId}${p.kind === "delta" ? "-delta" : ""}.crl`),
      );
      expect((await stat(p.file)).mode & 0o777).toBe(0o644);
      const shown = await openssl([
        "crl",
        "-inform",
        "DER",
        "-in",
        p.file,
        "-CAfile",
        chain,
        "-noout",
        "-crlnumber",
      ]);
      expect(shown.stderr).toContain("verify OK");
      expect(shown.stdout.trim()).toBe(`crlNumber=0x0${expected}`);
    }
  }
});

test("--ca and --out write one CA's CRL elsewhere; an unknown CA is refused and writes nothing", async () => {
  const ca = (JSON.parse((await kf(["--json", "ca", "list"])).stdout) as { id: string; kind: string }[]).find(
    (c) => c.kind === "intermediate",
  )!.id;
  const out = join(root, "published");
  const res = await kf(["crl", "publish", "--ca", ca, "--out", out]);
  expect(res.stderr).toBe("");
  expect(res.stdout).toMatch(
    new RegExp(
      `^${join(out, `${ca}.crl`)}  full  number \\d+  0 entries  next update \\S+\\n${join(out, `${ca}-delta.crl`)}  delta number \\d+  0 entries  next update \\S+\\n$`,
    ),
  );
  expect((await readdir(out)).sort()).toEqual([`${ca}-delta.crl`, `${ca}.crl`]);
  const refused = await kf(["crl", "publish", "--ca", "ca-nothing", "--out", join(root, "none")]);
  expect(refused).toMatchObject({ code: 1, stderr: 'keyfleet: no CA "ca-nothing" (not-found)\n' });
  await expect(stat(join(root, "none"))).rejects.toThrow();
});
