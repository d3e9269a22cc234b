/**
 * `keyfleet crl publish`: a full CRL of every active CA, written as <ca>.crl (DER, 0644) into the
 * data directory's crl/ or --out DIR, each numbered from its own sequence and verified by openssl
 * against the chain; an unknown CA is refused in one line and writes nothing. `--all-issuers
 * --out FILE`: the one PEM bundle a broker's crlfile names; its refusals sign nothing.
 */
import { mkdtemp, readdir, readFile, rm, stat, writeFile } from "node:fs/promises";
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

test("crl bundle before any publication is refused and writes nothing: a bundle without a CA's CRL refuses its devices", async () => {
  const file = join(root, "early.pem");
  const res = await kf(["crl", "bundle", "--out", file]);
  expect(res).toMatchObject({ code: 1, stdout: "" });
  expect(res.stderr).toMatch(
    /^keyfleet: CA "ca-[0-9a-f]+" has published no CRL yet: run `keyfleet crl publish` \(not-found\)\n$/,
  );
  await expect(stat(file)).rejects.toThrow();
});

test("publishes a full CRL and a delta of each CA that openssl verifies, numbered 1 and 2, then both 3 (made together: RFC 5280 §5.2.3)", async () => {
  const chain = join(root, "chain.pem");
  await writeFile(chain, JSON.parse((await kf(["--json", "ca", "chain"])).stdout).pem);
  const cas = (JSON.parse((await kf(["--json", "ca", "list"])).stdout) as { id: string }[]).map((c) => c.id);
  for (const [fullNumber, deltaNumber] of [
    ["1", "2"],
    ["3", "3"],
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

test("--all-issuers writes one PEM bundle, 0644, of every CA's CRL, each verified by openssl", async () => {
  const chain = join(root, "chain.pem");
  await writeFile(chain, JSON.parse((await kf(["--json", "ca", "chain"])).stdout).pem);
  const cas = (JSON.parse((await kf(["--json", "ca", "list"])).stdout) as { id: string }[]).map((c) => c.id);
  const file = join(root, "bundle.pem");
  const res = await kf(["--json", "crl", "publish", "--all-issuers", "--out", file]);
  expect(res.stderr).toBe("");
  const published = JSON.parse(res.stdout) as { issuerId: string; number: string; file: string }[];
  expect(published.map((p) => p.issuerId).sort()).toEqual([...cas].sort());
  expect(published.every((p) => p.file === file)).toBe(true);
  expect((await stat(file)).mode & 0o777).toBe(0o644);
  const text = await readFile(file, "utf8");
  const blocks = text.match(/-----BEGIN X509 CRL-----\n[^-]+-----END X509 CRL-----\n/g)!;
  expect(blocks.join("")).toBe(text);
  expect(blocks).toHaveLength(cas.length);
  for (const [i, block] of blocks.entries()) {
    const shown = await openssl(["crl", "-CAfile", chain, "-noout", "-crlnumber"], block);
    expect(shown.stderr).toContain("verify OK");
    expect(shown.stdout.trim()).toBe(
      `crlNumber=0x${BigInt(published[i]!.number).toString(16).padStart(2, "0")}`,
    );
  }
  expect((await readdir(root)).filter((f) => f.endsWith(".tmp"))).toEqual([]);
});

test("--all-issuers and crl bundle refusals are one line and sign nothing: with --ca, without --out, a path it cannot write", async () => {
  const numbers = async () =>
    (
      JSON.parse((await kf(["--json", "crl", "publish", "--out", join(root, "numbers")])).stdout) as {
        number: string;
      }[]
    ).map((p) => BigInt(p.number));
  const before = await numbers();
  const refused = async (args: string[], stderr: string | RegExp) => {
    const res = await kf(["crl", "publish", "--all-issuers", ...args]);
    expect(res).toMatchObject({ code: 1, stdout: "" });
    expect(res.stderr).toMatch(stderr);
    expect(res.stderr.split("\n")).toHaveLength(2);
  };
  await refused(
    ["--ca", "ca-anything", "--out", join(root, "b.pem")],
    /^keyfleet: --all-issuers bundles every CA's CRL, so it takes no --ca: drop one of them \(malformed-request\)\n$/,
  );
  await refused(
    [],
    /^keyfleet: --all-issuers writes one file: name it with --out FILE \(malformed-request\)\n$/,
  );
  await refused(
    ["--out", join(root, "absent", "b.pem")],
    /^keyfleet: cannot write the CRL bundle to .*absent\/b\.pem: there is no directory .*absent \(not-found\)\n$/,
  );
  await refused(
    ["--out", root],
    /it is a directory \(a CRL bundle is one file\) \(invalid-configuration\)\n$/,
  );
  await writeFile(join(root, "plain"), "");
  await refused(
    ["--out", join(root, "plain", "b.pem")],
    /plain is not a directory \(invalid-configuration\)\n$/,
  );
  const bundle = await kf(["crl", "bundle", "--out", join(root, "absent", "b.pem")]);
  expect(bundle.stderr).toMatch(/there is no directory .*absent \(not-found\)\n$/);
  expect((await kf(["crl", "bundle"])).stderr).toBe(
    "keyfleet: required option '--out <file>' not specified (malformed-request)\n",
  );
  await expect(stat(join(root, "b.pem"))).rejects.toThrow();
  // A full CRL and its delta each, made together under one number: none spent on a refusal.
  expect(await numbers()).toEqual(before.map((n) => n + 1n));
});

test("crl bundle writes the newest published full CRLs again, signing nothing: the same numbers, the same bytes", async () => {
  const file = join(root, "again.pem");
  const published = JSON.parse(
    (await kf(["--json", "crl", "publish", "--all-issuers", "--out", file])).stdout,
  ) as {
    number: string;
  }[];
  const text = await readFile(file, "utf8");
  const again = join(root, "again-2.pem");
  const res = await kf(["--json", "crl", "bundle", "--out", again]);
  expect(res.stderr).toBe("");
  expect((JSON.parse(res.stdout) as { number: string }[]).map((c) => c.number)).toEqual(
    published.map((c) => c.number),
  );
  expect(await readFile(again, "utf8")).toBe(text);
});

test("ca crl-shards spreads the issuing CA over shards and publishes each; its refusals are one line and change nothing", async () => {
  const cas = JSON.parse((await kf(["--json", "ca", "list"])).stdout) as { id: string; kind: string }[];
  const issuing = cas.find((c) => c.kind === "intermediate")!.id;
  const rootCa = cas.find((c) => c.kind === "root")!.id;
  const refused = async (args: string[], stderr: RegExp) => {
    const res = await kf(["ca", "crl-shards", ...args]);
    expect(res).toMatchObject({ code: 1, stdout: "" });
    expect(res.stderr).toMatch(stderr);
  };
  await refused(
    [issuing, "0"],
    /^keyfleet: <count> must be a whole number from 1 to 64, got "0" \(malformed-request\)\n$/,
  );
  await refused(
    [issuing, "two"],
    /^keyfleet: <count> must be a whole number from 1 to 64, got "two" \(malformed-request\)\n$/,
  );
  await refused([rootCa, "2"], /^keyfleet: CA "ca-[0-9a-f]+" is the root: .* \(malformed-request\)\n$/);
  await refused(["ca-0000", "2"], /^keyfleet: no CA "ca-0000" \(not-found\)\n$/);

  const done = await kf(["ca", "crl-shards", issuing, "3"]);
  expect(done).toMatchObject({ code: 0, stderr: "" });
  expect(done.stdout).toBe(`CA ${issuing}: 1 → 3 CRL shards; published 6 CRLs\n`);
  const files = await readdir(join(root, "data", "crl"));
  for (const name of [`${issuing}.crl`, `${issuing}-s1.crl`, `${issuing}-s2-delta.crl`])
    expect(files).toContain(name);
  await refused(
    [issuing, "2"],
    /^keyfleet: CA "ca-[0-9a-f]+" has 3 CRL shards, which its certificates name: the count only grows \(conflict\)\n$/,
  );
  expect((await kf(["ca", "crl-shards", issuing, "3"])).stdout).toBe(
    `CA ${issuing} already has 3 CRL shards\n`,
  );
  const listed = JSON.parse((await kf(["--json", "ca", "list"])).stdout) as {
    id: string;
    crlShards: number;
  }[];
  expect(listed.find((c) => c.id === issuing)!.crlShards).toBe(3);
});
