/**
 * CRL scopes (issue 17): an issuing CA's certificates spread over CRL shards, each certificate
 * naming its shard's CRL and each shard's CRL saying so in its Issuing Distribution Point, so that
 * openssl checks a certificate against its own shard's CRL and refuses another's; and the delta
 * base, which stays one full CRL for a day while full CRLs are remade more often, with the delta
 * made beside a full CRL sharing its number. On PGlite and PostgreSQL.
 */
import type { FastifyInstance } from "fastify";
import { sql } from "kysely";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { crlValiditySeconds } from "../src/ca/index.js";
import { deltaBaseSeconds } from "../src/ca/crl-publisher.js";
import { fixedClock, isKeyfleetError } from "../src/domain/index.js";
import { ensureInitialized } from "../src/first-run.js";
import { buildHttpApp } from "../src/http/index.js";
import { crlShardOf, serialFromHex, toPem, writeCsr } from "../src/pki/index.js";
import { testSigner } from "../src/pki/test-signer.js";
import { systemCaller } from "../src/policy/index.js";
import { testApp, type TestApp } from "./support/app.js";
import { forEachDatabase } from "./support/databases.js";
import { openssl, workdir, type Workdir } from "./support/openssl.js";

const publicUrl = "http://pki.example.test:8080";

async function issue(t: TestApp, name: string): Promise<{ serial: string; pem: string }> {
  const { signer } = await testSigner("p256");
  const csr = await writeCsr({ subject: [{ type: "CN", value: name }] }, signer);
  return t.app.devices.issue({ csr, profile: "client" }, systemCaller);
}

async function refusal(work: Promise<unknown>): Promise<{ code: string; message: string }> {
  try {
    await work;
  } catch (e) {
    if (isKeyfleetError(e)) return { code: e.code, message: e.message };
    throw e;
  }
  throw new Error("not refused");
}

forEachDatabase("CRL shards", (kind) => {
  let t: TestApp;
  let dir: Workdir;
  let http: FastifyInstance;
  let issuingId: string;
  let rootId: string;

  const verify = async (cert: string, ...crls: string[]): Promise<string> => {
    const deltas = crls.length > 1 ? ["-use_deltas", "-extended_crl"] : [];
    const args = ["verify", "-crl_check", ...deltas, "-CAfile", dir.file("chain.pem")];
    for (const crl of crls) args.push("-CRLfile", dir.file(crl));
    try {
      return (await openssl([...args, dir.file(cert)])).stdout.trim();
    } catch (e) {
      const { stdout, stderr } = e as { stdout?: string; stderr?: string };
      return `refused: ${String(stdout)} ${String(stderr)}`;
    }
  };
  const shardsOf = async (id: string) => (await t.app.authority.cas()).find((c) => c.id === id)!.crlShards;
  const shardFile = (shard: number, delta = false) =>
    `${issuingId}${shard === 0 ? "" : `-s${shard}`}${delta ? "-delta" : ""}.crl`;

  beforeAll(async () => {
    t = await testApp(kind);
    await ensureInitialized(t.app, { algorithm: "p256" });
    dir = await workdir();
    await dir.write("chain.pem", (await t.app.authority.chain()).pem);
    const cas = await t.app.authority.cas();
    issuingId = cas.find((c) => c.kind === "intermediate")!.id;
    rootId = cas.find((c) => c.kind === "root")!.id;
    http = await buildHttpApp(t.app, "public");
  });
  afterAll(async () => {
    await http?.close();
    await dir?.dispose();
    await t?.dispose();
  });

  test("refusals change nothing: the root, fewer shards, out of range, an unknown CA", async () => {
    const leaves = async () =>
      Number(
        (await sql<{ n: string }>`select count(*) as n from audit_leaves`.execute(t.db.database.db)).rows[0]!
          .n,
      );
    const before = await leaves();
    expect(await refusal(t.app.authority.setCrlShards(rootId, 2, "cli:test"))).toMatchObject({
      code: "malformed-request",
      message: expect.stringContaining("is the root"),
    });
    for (const count of [0, 65, 1.5]) {
      expect(await refusal(t.app.authority.setCrlShards(issuingId, count, "cli:test"))).toMatchObject({
        code: "malformed-request",
        message: `a CA has 1 to 64 CRL shards, not ${count}`,
      });
    }
    expect(await refusal(t.app.authority.setCrlShards("ca-0000", 2, "cli:test"))).toMatchObject({
      code: "not-found",
    });
    expect(await t.app.authority.setCrlShards(issuingId, 1, "cli:test")).toEqual({ old: 1, shards: 1 });
    expect(await shardsOf(issuingId)).toBe(1);
    expect(await leaves()).toBe(before);
  });

  test("each certificate names its shard's CRL, whose IDP says so; openssl checks it there and nowhere else", async () => {
    const before = await issue(t, "before-sharding"); // shard 0, the unsharded name
    await dir.write("before.pem", before.pem);
    expect(await t.app.authority.setCrlShards(issuingId, 4, "cli:test")).toEqual({ old: 1, shards: 4 });
    expect(await refusal(t.app.authority.setCrlShards(issuingId, 3, "cli:test"))).toMatchObject({
      code: "conflict",
      message: expect.stringContaining("the count only grows"),
    });
    await t.app.crls.publishNow("cli:test", issuingId);
    t.app.authority.reloadIssuer();

    const issued: { serial: string; shard: number; file: string }[] = [];
    for (let i = 0; i < 40; i++) {
      const cert = await issue(t, `sharded-${i}`);
      const shard = crlShardOf(serialFromHex(cert.serial), 4);
      const file = `cert-${i}.pem`;
      await dir.write(file, cert.pem);
      const shown = (
        await openssl(["x509", "-in", dir.file(file), "-noout", "-ext", "crlDistributionPoints"])
      ).stdout;
      expect(shown).toContain(`URI:${publicUrl}/crl/${shardFile(shard)}`);
      issued.push({ serial: cert.serial, shard, file });
    }
    const rows = await t.db.database.db
      .selectFrom("certificates")
      .select(["serial", "crl_shard"])
      .where(
        "serial",
        "in",
        issued.map((c) => c.serial),
      )
      .execute();
    expect(new Map(rows.map((r) => [r.serial, r.crl_shard]))).toEqual(
      new Map(issued.map((c) => [c.serial, c.shard])),
    );
    const used = [...new Set(issued.map((c) => c.shard))].sort();
    expect(used.length).toBeGreaterThan(1);

    // One revoked in each shard used, and the certificate from before the shards.
    const revoked = used.map((shard) => issued.find((c) => c.shard === shard)!);
    for (const cert of [...revoked, { serial: before.serial }]) {
      await t.app.devices.changeCertificateStatus(
        cert.serial,
        { action: "revoke", reason: "keyCompromise" },
        systemCaller,
      );
    }
    const published = (await t.app.crls.publishNow("cli:test", issuingId)).filter((c) => c.kind === "full");
    expect(published.map((c) => c.shard)).toEqual([0, 1, 2, 3]);
    for (const crl of published) {
      const res = await http.inject({ method: "GET", url: `/crl/${shardFile(crl.shard)}` });
      expect(res.statusCode).toBe(200);
      expect(Buffer.from(res.rawPayload).equals(Buffer.from(crl.der))).toBe(true);
      await dir.write(`shard-${crl.shard}.crl.pem`, toPem("X509 CRL", crl.der));
      const text = (await openssl(["crl", "-in", dir.file(`shard-${crl.shard}.crl.pem`), "-noout", "-text"]))
        .stdout;
      expect(text).toMatch(
        new RegExp(
          `Issuing Distribution Point: critical\\s+Full Name:\\s+URI:${publicUrl}/crl/${shardFile(crl.shard)}`,
        ),
      );
      expect(text).toContain(`URI:${publicUrl}/crl/${shardFile(crl.shard, true)}`); // Freshest CRL
      const expected = revoked.filter((c) => c.shard === crl.shard).length + (crl.shard === 0 ? 1 : 0);
      expect(crl.entries).toBe(expected);
    }
    expect(await verify("before.pem", "shard-0.crl.pem")).toMatch(/certificate revoked/);
    for (const cert of issued.slice(0, 12)) {
      const own = await verify(cert.file, `shard-${cert.shard}.crl.pem`);
      if (revoked.includes(cert)) expect(own).toMatch(/certificate revoked/);
      else expect(own).toMatch(/: OK$/);
      // Another shard's CRL does not cover it: its IDP names another URL (openssl's error 44).
      const other = (cert.shard + 1) % 4;
      expect(await verify(cert.file, `shard-${other}.crl.pem`)).toMatch(
        /error 44 at 0 depth lookup: [Dd]ifferent CRL scope/,
      );
    }

    // A revocation in one shard makes that shard's delta due, and no other's.
    const next = issued.find((c) => c.shard === used[0] && !revoked.includes(c))!;
    await t.app.devices.changeCertificateStatus(
      next.serial,
      { action: "revoke", reason: "superseded" },
      systemCaller,
    );
    const due = (await t.app.crls.publishDue()).filter((c) => c.issuerId === issuingId);
    expect(due.map((c) => [c.shard, c.kind])).toEqual([[used[0], "delta"]]);
    await dir.write("due-delta.crl.pem", toPem("X509 CRL", due[0]!.der));
    expect(await verify(next.file, `shard-${next.shard}.crl.pem`)).toMatch(/: OK$/);
    expect(await verify(next.file, `shard-${next.shard}.crl.pem`, "due-delta.crl.pem")).toMatch(
      /certificate revoked/,
    );

    // The broker's bundle holds every shard's CRL, and the CA list says how many there are.
    const bundle = await t.app.crls.newestFull();
    expect(bundle.filter((c) => c.row.issuer_id === issuingId).map((c) => c.row.shard)).toEqual([0, 1, 2, 3]);
    expect(await shardsOf(issuingId)).toBe(4);
  });
});

describe.each(["pglite", "postgres"] as const)("the delta base [%s]", (kind) => {
  const clock = fixedClock("2026-12-01T00:00:00Z");
  let t: TestApp;
  let dir: Workdir;
  let issuingId: string;

  beforeAll(async () => {
    t = await testApp(kind, { clock });
    await ensureInitialized(t.app, { algorithm: "p256" });
    dir = await workdir();
    await dir.write("chain.pem", (await t.app.authority.chain()).pem);
    issuingId = (await t.app.authority.cas()).find((c) => c.kind === "intermediate")!.id;
  });
  afterAll(async () => {
    await dir?.dispose();
    await t?.dispose();
  });

  test("deltas build on one full CRL for a day, full CRLs remade meanwhile carry a delta of their own number", async () => {
    const published = async () => (await t.app.crls.publishDue()).filter((c) => c.issuerId === issuingId);
    const summary = (crls: { kind: string; number: bigint; baseNumber: bigint | null }[]) =>
      crls.map((c) => `${c.kind} ${c.number}${c.baseNumber === null ? "" : ` on ${c.baseNumber}`}`);

    expect(summary(await published())).toEqual(["full 1", "delta 2 on 1"]); // the first full CRL is the base
    const cert = await issue(t, "base-test");
    await dir.write("cert.pem", cert.pem);
    await t.app.devices.changeCertificateStatus(
      cert.serial,
      { action: "revoke", reason: "keyCompromise" },
      systemCaller,
    );
    expect(summary(await published())).toEqual(["delta 3 on 1"]);

    // Half the full CRL's validity: a full CRL again, and with it, in its snapshot, a delta of its number.
    clock.advance(crlValiditySeconds / 2);
    const [full, delta] = await published();
    expect(summary([full!, delta!])).toEqual(["full 4", "delta 4 on 1"]);
    expect(full!.entries).toBe(1);
    expect(delta!.entries).toBe(1);
    expect(summary(await published())).toEqual([]); // the delta on the base is current: nothing due

    // A day after the base: the next full CRL becomes the base, and the next delta builds on it; the
    // delta on the old base expired (an hour's validity) long ago, so the new one comes at once.
    clock.advance(deltaBaseSeconds - crlValiditySeconds / 2);
    const [fifth, sixth] = await published();
    expect(summary([fifth!, sixth!])).toEqual(["full 5", "delta 6 on 5"]);
    expect(sixth!.entries).toBe(0);
    expect(summary(await published())).toEqual([]);

    // Where the base moves while the delta on the old one is still valid, the next round makes the new one.
    clock.advance(deltaBaseSeconds - 600);
    expect(summary(await published())).toEqual(["full 7", "delta 7 on 5"]); // half the full CRL's validity
    clock.advance(600);
    const late = await issue(t, "base-test-late");
    await dir.write("late.pem", late.pem);
    await t.app.devices.changeCertificateStatus(
      late.serial,
      { action: "revoke", reason: "superseded" },
      systemCaller,
    );
    expect(summary(await published())).toEqual(["delta 8 on 5"]);
    clock.advance(900); // revocations wait and the full CRL is a quarter hour old; the base, a day
    expect(summary(await published())).toEqual(["full 9"]);
    const [onNewBase] = await published();
    expect(summary([onNewBase!])).toEqual(["delta 10 on 9"]);
    expect(onNewBase!.entries).toBe(0);

    const fullNow = await t.app.crls.newestFull();
    await dir.write(
      "full.crl.pem",
      toPem("X509 CRL", fullNow.find((c) => c.row.issuer_id === issuingId)!.der),
    );
    await dir.write("delta.crl.pem", toPem("X509 CRL", onNewBase!.der));
    const verified = (cert: string) =>
      openssl([
        "verify",
        "-crl_check",
        "-use_deltas",
        "-extended_crl",
        "-attime",
        String(Math.floor(clock.now().getTime() / 1000)),
        "-CAfile",
        dir.file("chain.pem"),
        "-CRLfile",
        dir.file("full.crl.pem"),
        "-CRLfile",
        dir.file("delta.crl.pem"),
        dir.file(cert),
      ]).catch((e: { stdout?: string; stderr?: string }) => ({ stdout: `${e.stdout} ${e.stderr}` }));
    expect((await verified("late.pem")).stdout).toMatch(/certificate revoked/);
    const result = await verified("cert.pem");
    expect(result.stdout).toMatch(/certificate revoked/);
  });
});
