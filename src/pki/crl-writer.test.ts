/**
 * The CRL writer against @peculiar/asn1-x509 (it parses what we write and, serialising it again,
 * gives the same bytes; each field reads back as written) and against openssl: `openssl crl`
 * verifies the signature and shows the extensions, `openssl verify -crl_check` refuses a revoked
 * certificate and accepts a good one, and with `-use_deltas -extended_crl` a delta CRL that lifts a
 * hold makes the held certificate good again.
 */
import { AsnConvert } from "@peculiar/asn1-schema";
import {
  CertificateList,
  CRLNumber,
  CRLReason,
  id_ce_cRLNumber,
  id_ce_cRLReasons,
  id_ce_deltaCRLIndicator,
  id_ce_freshestCRL,
  id_ce_invalidityDate,
  id_ce_issuingDistributionPoint,
  InvalidityDate,
  IssuingDistributionPoint,
} from "@peculiar/asn1-x509";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { openssl, workdir, type Workdir } from "../../test/support/openssl.js";
import { writeCertificate } from "./certificate-writer.js";
import { crlEntry, CrlWriter, type CrlEntry, type CrlHeader } from "./crl-writer.js";
import { toPem } from "./pem.js";
import { profiles } from "./profiles.js";
import { newSerial } from "./serial.js";
import { testChain, type TestChain } from "./test-chain.js";
import { testSigner } from "./test-signer.js";

const now = new Date(Math.floor(Date.now() / 1000) * 1000 - 60_000);
const hours = (n: number): Date => new Date(now.getTime() + n * 3_600_000);
const crlUrl = "http://pki.example.test/crl/issuing.crl";
const deltaUrl = "http://pki.example.test/crl/issuing-delta.crl";

let dir: Workdir;
let chain: TestChain;
const leaves: Record<"good" | "revoked" | "held", { der: Uint8Array; serial: Uint8Array }> = {} as never;

beforeAll(async () => {
  dir = await workdir();
  chain = await testChain("p256", {
    notBefore: hours(-1),
    rootNotAfter: hours(24 * 3650),
    issuingNotAfter: hours(24 * 365),
  });
  for (const name of ["good", "revoked", "held"] as const) {
    const serial = newSerial();
    const der = await writeCertificate(chain.issuing.issuer, {
      serial,
      subject: [{ type: "CN", value: `leaf ${name}` }],
      sans: [],
      subjectPublicKeyInfo: (await testSigner("p256")).signer.publicKey,
      notBefore: hours(-1),
      notAfter: hours(24 * 30),
      profile: profiles.client,
    });
    leaves[name] = { der, serial };
    await dir.write(`${name}.pem`, toPem("CERTIFICATE", der));
  }
  await dir.write("root.pem", toPem("CERTIFICATE", chain.root.der));
  await dir.write("issuing.pem", toPem("CERTIFICATE", chain.issuing.der));
  await dir.write(
    "chain.pem",
    toPem("CERTIFICATE", chain.issuing.der) + toPem("CERTIFICATE", chain.root.der),
  );
});
afterAll(() => dir.dispose());

function header(over: Partial<CrlHeader> = {}): CrlHeader {
  return {
    issuerName: chain.issuing.issuer.issuerName,
    keyIdentifier: chain.issuing.issuer.keyIdentifier,
    signer: chain.issuing.key.signer,
    thisUpdate: now,
    nextUpdate: hours(24),
    crlNumber: 7n,
    distributionPoint: crlUrl,
    onlyUserCertificates: true,
    deltaDistributionPoint: deltaUrl,
    ...over,
  };
}

async function write(entries: readonly CrlEntry[], over: Partial<CrlHeader> = {}): Promise<Uint8Array> {
  const writer = new CrlWriter(entries.length);
  for (const e of entries) writer.add(e);
  return writer.finish(header(over));
}

function fullEntries(): CrlEntry[] {
  return [
    {
      serial: leaves.revoked.serial,
      revokedAt: hours(-0.5),
      reason: "keyCompromise",
      invalidSince: hours(-0.75),
    },
    { serial: leaves.held.serial, revokedAt: hours(-0.4), reason: "certificateHold" },
    { serial: Uint8Array.of(0x80, 1), revokedAt: hours(-0.3), reason: "superseded" },
    { serial: Uint8Array.of(1), revokedAt: hours(-0.2), reason: "unspecified" },
  ];
}

async function verify(leaf: string, crls: string[], extra: string[] = []): Promise<string> {
  const args = [
    "verify",
    "-crl_check",
    ...extra,
    "-CAfile",
    dir.file("root.pem"),
    "-untrusted",
    dir.file("issuing.pem"),
  ];
  for (const c of crls) args.push("-CRLfile", dir.file(c));
  try {
    return (await openssl([...args, dir.file(leaf)])).stdout.trim();
  } catch (e) {
    return `refused: ${String((e as { stdout?: string }).stdout)} ${String((e as { stderr?: string }).stderr)}`;
  }
}

describe("CRL writer", () => {
  test("@peculiar reads back every field, and serialising what it read gives our bytes", async () => {
    const der = await write(fullEntries());
    const parsed = AsnConvert.parse(der, CertificateList);
    expect(new Uint8Array(AsnConvert.serialize(parsed))).toEqual(der);
    const tbs = parsed.tbsCertList;
    expect(tbs.version).toBe(1);
    expect(tbs.thisUpdate.getTime()).toEqual(now);
    expect(tbs.nextUpdate!.getTime()).toEqual(hours(24));
    const entries = tbs.revokedCertificates!;
    expect(entries).toHaveLength(4);
    const extension = (list: typeof tbs.crlExtensions, id: string) => list?.find((x) => x.extnID === id);
    const reason = (i: number) => {
      const x = extension(entries[i]!.crlEntryExtensions, id_ce_cRLReasons);
      return x && AsnConvert.parse(x.extnValue, CRLReason).reason;
    };
    expect([0, 1, 2, 3].map(reason)).toEqual([1, 6, 4, undefined]); // unspecified is left out (§5.3.1)
    const invalidity = extension(entries[0]!.crlEntryExtensions, id_ce_invalidityDate)!;
    expect(AsnConvert.parse(invalidity.extnValue, InvalidityDate).value.getTime()).toBe(
      hours(-0.75).getTime(),
    );
    expect(Buffer.from(entries[2]!.userCertificate).toString("hex")).toBe("008001"); // positive INTEGER
    const exts = tbs.crlExtensions!;
    expect(AsnConvert.parse(extension(exts, id_ce_cRLNumber)!.extnValue, CRLNumber).value).toBe(7);
    const idp = extension(exts, id_ce_issuingDistributionPoint)!;
    expect(idp.critical).toBe(true);
    const point = AsnConvert.parse(idp.extnValue, IssuingDistributionPoint);
    expect(point.onlyContainsUserCerts).toBe(true);
    expect(point.distributionPoint!.fullName![0]!.uniformResourceIdentifier).toBe(crlUrl);
    expect(extension(exts, id_ce_freshestCRL)).toBeDefined();
    expect(extension(exts, id_ce_deltaCRLIndicator)).toBeUndefined();
  });

  test("an entry alone is the same DER whether written by crlEntry or inside a CRL", async () => {
    const e = fullEntries()[0]!;
    const der = await write([e]);
    expect(Buffer.from(der).includes(Buffer.from(crlEntry(e)))).toBe(true);
  });

  test("openssl crl verifies the signature and shows the extensions", async () => {
    await dir.write("full.crl", await write(fullEntries()));
    const shown = await openssl([
      "crl",
      "-inform",
      "DER",
      "-in",
      dir.file("full.crl"),
      "-CAfile",
      dir.file("chain.pem"),
      "-noout",
      "-text",
    ]);
    expect(shown.stderr).toContain("verify OK");
    for (const text of [
      "Version 2 (0x1)",
      "X509v3 CRL Number: \n                7",
      "X509v3 Issuing Distribution Point: critical",
      "Only User Certificates",
      `URI:${crlUrl}`,
      "X509v3 Freshest CRL:",
      `URI:${deltaUrl}`,
      "Key Compromise",
      "Certificate Hold",
      "Superseded",
      "Invalidity Date:",
    ]) {
      expect(shown.stdout).toContain(text);
    }
  });

  test("openssl verify -crl_check refuses the revoked and held certificates and accepts the good one", async () => {
    await dir.write("full.pem", toPem("X509 CRL", await write(fullEntries())));
    expect(await verify("good.pem", ["full.pem"])).toMatch(/good\.pem: OK$/);
    expect(await verify("revoked.pem", ["full.pem"])).toMatch(/certificate revoked/);
    expect(await verify("held.pem", ["full.pem"])).toMatch(/certificate revoked/);
  });

  test("a delta CRL that lifts a hold (removeFromCRL) makes the held certificate good with -use_deltas", async () => {
    await dir.write("full.pem", toPem("X509 CRL", await write(fullEntries())));
    const delta = await write(
      [{ serial: leaves.held.serial, revokedAt: hours(-0.1), reason: "removeFromCRL" }],
      {
        crlNumber: 8n,
        baseCrlNumber: 7n, // the scope (IDP) stays its base's: openssl matches the two
        deltaDistributionPoint: undefined,
      },
    );
    await dir.write("delta.pem", toPem("X509 CRL", delta));
    const shown = await openssl(["crl", "-in", dir.file("delta.pem"), "-noout", "-text"]);
    expect(shown.stdout).toContain("X509v3 Delta CRL Indicator: critical");
    expect(shown.stdout).toContain("Remove From CRL");
    expect(shown.stdout).not.toContain("Freshest CRL");
    const withDeltas = ["-use_deltas", "-extended_crl"];
    expect(await verify("held.pem", ["full.pem", "delta.pem"], withDeltas)).toMatch(/held\.pem: OK$/);
    expect(await verify("revoked.pem", ["full.pem", "delta.pem"], withDeltas)).toMatch(/certificate revoked/);
  });

  test("an empty CRL has no revokedCertificates field, and openssl takes it", async () => {
    const der = await write([]);
    expect(AsnConvert.parse(der, CertificateList).tbsCertList.revokedCertificates).toBeUndefined();
    await dir.write("empty.pem", toPem("X509 CRL", der));
    expect(await verify("revoked.pem", ["empty.pem"])).toMatch(/revoked\.pem: OK$/);
  });

  test("10,000 entries: one buffer grown past its estimate, every entry in place, openssl verifies it", async () => {
    const writer = new CrlWriter(10); // far too small: the buffer grows
    for (let i = 1; i <= 10_000; i++) {
      writer.add({
        serial: Uint8Array.of(0x10, i >> 8, i & 0xff),
        revokedAt: hours(-1),
        reason: "cessationOfOperation",
      });
    }
    writer.add({ serial: leaves.revoked.serial, revokedAt: hours(-1) });
    expect(writer.count).toBe(10_001);
    await dir.write("big.pem", toPem("X509 CRL", await writer.finish(header())));
    const shown = await openssl([
      "crl",
      "-in",
      dir.file("big.pem"),
      "-CAfile",
      dir.file("chain.pem"),
      "-noout",
      "-text",
    ]);
    expect(shown.stderr).toContain("verify OK");
    expect(shown.stdout.match(/Serial Number: /g)).toHaveLength(10_001);
    expect(await verify("revoked.pem", ["big.pem"])).toMatch(/certificate revoked/);
    expect(await verify("good.pem", ["big.pem"])).toMatch(/good\.pem: OK$/);
  });

  test("the same TBSCertList whatever the estimate: none, exact, short of entries that run longer, too many", async () => {
    const entries: CrlEntry[] = Array.from({ length: 300 }, (_, i) => ({
      serial: Uint8Array.of(
        0x20,
        0x11,
        0x22,
        0x33,
        0x44,
        0x55,
        0x66,
        0x77,
        0x88,
        0x99,
        0xaa,
        i >> 8,
        i & 0xff,
      ),
      revokedAt: hours(-1),
      reason: "keyCompromise",
      invalidSince: i % 2 ? hours(-2) : undefined, // longer than the estimate per entry
    }));
    const written = await Promise.all(
      [0, entries.length, 100, 10_000].map(async (expected) => {
        const writer = new CrlWriter(expected);
        for (const e of entries) writer.add(e);
        const crl = AsnConvert.parse(await writer.finish(header()), CertificateList);
        return Buffer.from(AsnConvert.serialize(crl.tbsCertList)); // the signature differs (ECDSA)
      }),
    );
    for (const tbs of written.slice(1)) expect(tbs.equals(written[0]!)).toBe(true);
  });

  test("bad headers are refused: nextUpdate not after thisUpdate, a delta not above its base, a CRL number past 20 octets", async () => {
    await expect(write([], { nextUpdate: now })).rejects.toThrow(/nextUpdate must be after its thisUpdate/);
    await expect(write([], { baseCrlNumber: 7n })).rejects.toThrow(/above its base CRL's/);
    await expect(write([], { crlNumber: 1n << 160n })).rejects.toThrow(/RFC 5280 §5.2.3/);
    expect(() => crlEntry({ serial: new Uint8Array(21), revokedAt: now })).toThrow(/1 to 20 octets/);
  });
});
