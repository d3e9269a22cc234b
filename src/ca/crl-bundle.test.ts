/**
 * The CRL bundle: real CRLs of a root and an issuing CA, one PEM file that openssl reads whole
 * (`openssl verify -crl_check -CRLfile` takes every CRL in it) and that `readCrlBundle` accepts only
 * exactly as written; with it as `replaceFile`'s check, a bundle that does not read back as signed
 * never replaces the one in use.
 */
import { readdir, readFile, writeFile } from "node:fs/promises";
import { afterAll, beforeAll, expect, test } from "vitest";
import { openssl, workdir, type Workdir } from "../../test/support/openssl.js";
import { replaceFile } from "../data-directory.js";
import { CrlWriter, toPem } from "../pki/index.js";
import { testChain, type TestCa, type TestChain } from "../pki/test-chain.js";
import { crlBundle, readCrlBundle } from "./crl-bundle.js";

const now = new Date(Math.floor(Date.now() / 1000) * 1000 - 60_000);
const hours = (n: number): Date => new Date(now.getTime() + n * 3_600_000);
let dir: Workdir;
let chain: TestChain;
let crls: Uint8Array[];

function crlOf(ca: TestCa, url: string, onlyUserCertificates: boolean): Promise<Uint8Array> {
  return new CrlWriter().finish({
    issuerName: ca.issuer.issuerName,
    keyIdentifier: ca.issuer.keyIdentifier,
    signer: ca.key.signer,
    thisUpdate: now,
    nextUpdate: hours(24),
    crlNumber: 1n,
    distributionPoint: url,
    onlyUserCertificates,
  });
}

beforeAll(async () => {
  dir = await workdir();
  chain = await testChain("p256", {
    notBefore: hours(-1),
    rootNotAfter: hours(240),
    issuingNotAfter: hours(24),
  });
  crls = [
    await crlOf(chain.issuing, "http://pki.example.test/crl/issuing.crl", true),
    await crlOf(chain.root, "http://pki.example.test/crl/root.crl", false),
  ];
  await dir.write(
    "chain.pem",
    toPem("CERTIFICATE", chain.issuing.der) + toPem("CERTIFICATE", chain.root.der),
  );
  await dir.write("issuing.pem", toPem("CERTIFICATE", chain.issuing.der));
});
afterAll(() => dir.dispose());

test("openssl takes every CRL of the bundle: the issuing CA's checks out against the root's", async () => {
  const file = await dir.write("bundle.pem", crlBundle(crls));
  const verified = await openssl([
    "verify",
    "-crl_check",
    "-CRLfile",
    file,
    "-CAfile",
    dir.file("chain.pem"),
    dir.file("issuing.pem"),
  ]);
  expect(verified.stdout).toContain(": OK");
  expect(readCrlBundle(await readFile(file, "utf8"), crls)).toEqual(crls);
});

test("a bundle cut short, padded, reordered or missing a CRL is refused", () => {
  const text = crlBundle(crls);
  const refuses = (t: string, why: RegExp) => expect(() => readCrlBundle(t, crls)).toThrow(why);
  refuses(text.slice(0, text.length - 30), /does not read as PEM|holds 1 CRLs/);
  refuses(text.slice(0, text.indexOf("-----BEGIN", 10)), /holds 1 CRLs, not 2/);
  refuses(text + "\n# a comment\n", /holds something besides its CRLs/);
  refuses(crlBundle([crls[1]!, crls[0]!]), /has CRL 1 differing from the one signed/);
  refuses("", /does not read as PEM/);
  expect(() => crlBundle([])).toThrow(/at least one CRL/);
});

test("replaceFile with the bundle check keeps the file in use when what was written does not read back", async () => {
  const target = dir.file("crlfile.pem");
  await writeFile(target, "the bundle in use\n");
  const other = [crls[0]!, crls[0]!];
  await expect(
    replaceFile(target, crlBundle(other), 0o644, (bytes) => readCrlBundle(bytes.toString(), crls)),
  ).rejects.toThrow(/differing from the one signed/);
  expect(await readFile(target, "utf8")).toBe("the bundle in use\n");
  expect((await readdir(dir.path)).filter((f) => f.endsWith(".tmp"))).toEqual([]);
  await replaceFile(target, crlBundle(crls), 0o644, (bytes) => readCrlBundle(bytes.toString(), crls));
  expect(await readFile(target, "utf8")).toBe(crlBundle(crls));
});
