/**
 * CRLs published (issue 17): a full CRL of the issuing CA's held and revoked certificates and a
 * delta of what changed since — revoked, held, holds lifted (removeFromCRL) — numbered from one
 * sequence, checked and kept, served from memory on the plain-HTTP listener with conditional
 * requests, and read back from the data directory after a restart. openssl verifies them and,
 * with -crl_check (and -use_deltas -extended_crl with the delta), refuses the held and revoked
 * certificates and accepts the good ones. On PGlite and PostgreSQL.
 */
import type { FastifyInstance } from "fastify";
import { sql } from "kysely";
import { afterAll, beforeAll, expect, test } from "vitest";
import { ArtefactStore, crlPublisher } from "../src/ca/index.js";
import { ensureInitialized } from "../src/first-run.js";
import { buildHttpApp } from "../src/http/index.js";
import { toPem } from "../src/pki/index.js";
import { systemCaller } from "../src/policy/index.js";
import { issuerRepository } from "../src/store/index.js";
import { testApp, type TestApp } from "./support/app.js";
import { forEachDatabase } from "./support/databases.js";
import { openssl, opensslCsr, workdir, type Workdir } from "./support/openssl.js";

forEachDatabase("CRL publisher", (kind) => {
  let t: TestApp;
  let dir: Workdir;
  let http: FastifyInstance;
  let issuingId: string;

  const device = async (serial: string): Promise<{ id: string; serial: string }> => {
    const id = (await t.app.devices.register({ serialNumber: serial }, systemCaller)).id;
    const csr = await opensslCsr(dir, "p256", `/CN=${serial}`);
    const issued = await t.app.devices.issue({ csr, deviceId: id }, systemCaller);
    await t.app.devices.apply(id, { kind: "confirm" }, systemCaller, {
      evidence: [{ kind: "proof-of-possession", ref: "test" }],
    });
    await dir.write(`${serial}.pem`, issued.pem);
    return { id, serial: issued.serial };
  };
  /** Publishes the issuing CA's CRLs now; writes them as PEM for openssl. */
  const publish = async (name: string) => {
    const [full, delta] = await t.app.crls.publishNow("cli:test", issuingId);
    await dir.write(`${name}.crl.pem`, toPem("X509 CRL", full!.der));
    await dir.write(`${name}-delta.crl.pem`, toPem("X509 CRL", delta!.der));
    return { full: full!, delta: delta! };
  };
  /** What the publisher task publishes now of the issuing CA (the root's are published too). */
  const due = async () => (await t.app.crls.publishDue()).filter((c) => c.issuerId === issuingId);
  const verify = async (serial: string, ...crls: string[]): Promise<string> => {
    const deltas = crls.length > 1 ? ["-use_deltas", "-extended_crl"] : [];
    const args = ["verify", "-crl_check", ...deltas, "-CAfile", dir.file("chain.pem")];
    for (const crl of crls) args.push("-CRLfile", dir.file(crl));
    try {
      return (await openssl([...args, dir.file(`${serial}.pem`)])).stdout.trim();
    } catch (e) {
      const { stdout, stderr } = e as { stdout?: string; stderr?: string };
      return `refused: ${String(stdout)} ${String(stderr)}`;
    }
  };
  const text = async (crl: string) =>
    openssl(["crl", "-in", dir.file(crl), "-CAfile", dir.file("chain.pem"), "-noout", "-text"]);

  beforeAll(async () => {
    t = await testApp(kind);
    await ensureInitialized(t.app, { algorithm: "p256" });
    dir = await workdir();
    await dir.write("chain.pem", (await t.app.authority.chain()).pem);
    issuingId = (await t.app.authority.cas()).find((c) => c.kind === "intermediate")!.id;
    http = await buildHttpApp(t.app, "public");
  });
  afterAll(async () => {
    await http?.close();
    await dir?.dispose();
    await t?.dispose();
  });

  test("full and delta CRLs from one number sequence; the delta carries what changed since its base", async () => {
    const good = await device("SN-CRL-GOOD");
    const held = await device("SN-CRL-HELD");
    const gone = await device("SN-CRL-GONE");

    const first = await publish("first");
    expect(first.full).toMatchObject({ issuerId: issuingId, kind: "full", number: 1n, entries: 0 });
    expect(first.delta).toMatchObject({ kind: "delta", number: 2n, baseNumber: 1n, entries: 0 });
    expect(await verify("SN-CRL-HELD", "first.crl.pem")).toMatch(/: OK$/);
    const shownFull = await text("first.crl.pem");
    expect(shownFull.stderr).toContain("verify OK");
    expect(shownFull.stdout).toContain(`URI:http://pki.example.test:8080/crl/${issuingId}-delta.crl`); // Freshest CRL

    // Changes after the full CRL: only the delta has them, and openssl applies it with -use_deltas.
    await t.app.devices.apply(held.id, { kind: "suspend" }, systemCaller);
    await t.app.devices.apply(gone.id, { kind: "retire" }, systemCaller);
    await t.app.devices.apply(gone.id, { kind: "finalize" }, systemCaller);
    const [delta] = await due();
    expect(delta).toMatchObject({ kind: "delta", number: 3n, baseNumber: 1n, entries: 2 });
    await dir.write("delta.crl.pem", toPem("X509 CRL", delta!.der));
    const shownDelta = await text("delta.crl.pem");
    expect(shownDelta.stderr).toContain("verify OK");
    expect(shownDelta.stdout).toMatch(/Delta CRL Indicator: critical\n\s+1\n/);
    expect(shownDelta.stdout).toContain("Certificate Hold");
    expect(shownDelta.stdout).toContain("Cessation Of Operation");
    expect(await verify("SN-CRL-HELD", "first.crl.pem")).toMatch(/: OK$/); // the full CRL alone is behind
    expect(await verify("SN-CRL-HELD", "first.crl.pem", "delta.crl.pem")).toMatch(/certificate revoked/);
    expect(await verify("SN-CRL-GONE", "first.crl.pem", "delta.crl.pem")).toMatch(/certificate revoked/);
    expect(await verify("SN-CRL-GOOD", "first.crl.pem", "delta.crl.pem")).toMatch(/SN-CRL-GOOD\.pem: OK$/);
    expect(await due()).toEqual([]); // nothing changed since: nothing due

    // A full CRL made now has both, and its delta, made with it, has its number (RFC 5280 §5.2.3)
    // and the same news against the delta base, which stays the first full CRL for a day.
    const second = await publish("second");
    expect(second.full).toMatchObject({ number: 4n, entries: 2 });
    expect(second.delta).toMatchObject({ kind: "delta", number: 4n, baseNumber: 1n, entries: 2 });
    expect(await verify("SN-CRL-HELD", "second.crl.pem")).toMatch(/certificate revoked/);
    expect(await verify("SN-CRL-HELD", "first.crl.pem", "second-delta.crl.pem")).toMatch(
      /certificate revoked/,
    );
    // Resuming lifts the hold, and the next delta removes it from the CRL, for either full CRL.
    await t.app.devices.apply(held.id, { kind: "resume" }, systemCaller);
    const [lifted] = await due();
    expect(lifted).toMatchObject({ kind: "delta", number: 5n, baseNumber: 1n, entries: 2 });
    await dir.write("lifted.crl.pem", toPem("X509 CRL", lifted!.der));
    expect((await text("lifted.crl.pem")).stdout).toContain("Remove From CRL");
    for (const full of ["first.crl.pem", "second.crl.pem"]) {
      expect(await verify("SN-CRL-HELD", full, "lifted.crl.pem")).toMatch(/SN-CRL-HELD\.pem: OK$/);
      expect(await verify("SN-CRL-GONE", full, "lifted.crl.pem")).toMatch(/certificate revoked/);
    }
    expect(good.serial).not.toBe(gone.serial);

    // Each publication is an audit leaf and an event.
    const feed = await t.app.events.feed(undefined, 500);
    expect(feed.items.filter((e) => e.type === "crl.published").map((e) => e.payload.number)).toEqual(
      expect.arrayContaining(["1", "2", "3", "4", "5"]),
    );
  });

  test("served on the plain-HTTP listener with caching headers and 304s; an unknown CRL is 404", async () => {
    const { full } = await publish("served");
    const res = await http.inject({ method: "GET", url: `/crl/${issuingId}.crl` });
    expect(res.statusCode).toBe(200);
    expect(res.headers["content-type"]).toBe("application/pkix-crl");
    expect(Buffer.from(res.rawPayload).equals(Buffer.from(full.der))).toBe(true);
    expect(res.headers["last-modified"]).toBe(full.thisUpdate.toUTCString());
    expect(res.headers.expires).toBe(full.nextUpdate.toUTCString());
    expect(res.headers["cache-control"]).toMatch(/^public, max-age=\d+, no-transform$/);
    const etag = res.headers.etag as string;
    expect(
      (await http.inject({ method: "GET", url: `/crl/${issuingId}.crl`, headers: { "if-none-match": etag } }))
        .statusCode,
    ).toBe(304);
    const since = { "if-modified-since": full.thisUpdate.toUTCString() };
    expect(
      (await http.inject({ method: "GET", url: `/crl/${issuingId}.crl`, headers: since })).statusCode,
    ).toBe(304);
    const delta = await http.inject({ method: "GET", url: `/crl/${issuingId}-delta.crl` });
    expect(delta.statusCode).toBe(200);
    for (const url of ["/crl/ca-00.crl", "/crl/../pglite", "/crl/x.crl"]) {
      const missing = await http.inject({ method: "GET", url });
      expect(missing.statusCode, url).toBe(404);
      expect(missing.headers["content-type"]).toContain("application/problem+json");
    }
  });

  test("a new process serves the CRLs and CA certificates its data directory holds before the database answers", async () => {
    await publish("files");
    await t.app.crls.sync(); // the CA certificates are written as files too
    const offline = crlPublisher({
      database: t.app.database,
      issuers: issuerRepository(t.app.database.db),
      keyStore: t.app.keyStore,
      clock: t.app.clock,
      audit: t.app.audit,
      outbox: t.app.events,
      artefacts: new ArtefactStore(t.dataDir),
      publicUrl: () => t.app.authority.publicUrl(),
    });
    const { loaded } = await new ArtefactStore(t.dataDir).load("crl", () => ({
      lastModified: new Date(0),
      expires: null,
      number: 0n,
    }));
    expect(loaded).toEqual(expect.arrayContaining([`crl/${issuingId}.crl`, `crl/${issuingId}-delta.crl`]));
    expect(offline.served(`crl/${issuingId}.crl`)).toBeUndefined();
    await offline.start(t.app.logger);
    offline.stop();
    const served = offline.served(`crl/${issuingId}.crl`)!;
    expect(served.bytes).toEqual(t.app.crls.served(`crl/${issuingId}.crl`)!.bytes);
    expect(offline.served(`ca/${issuingId}.cer`)).toBeDefined();
  });

  test("another process serves what one published, its bytes read back in parts (a CRL over a MiB)", async () => {
    // 25,000 revoked certificates, seeded in SQL (the CRL reads no DER): a CRL of about 1.2 MiB.
    await sql`
      insert into certificates (issuer_id, serial, der, fingerprint, subject, profile, key_algorithm,
        public_key_sha256, not_before, not_after, status, revoked_at, revocation_reason)
      select ${issuingId}, '7e' || lpad(to_hex(n), 30, '0'), '\\x00'::bytea, sha256(convert_to('parts' || n, 'UTF8')),
        'CN=parts', 'client', 'p256', sha256(convert_to('parts-key' || n, 'UTF8')),
        now() - interval '1 day', now() + interval '30 days', 'revoked', now() - interval '1 hour', 'superseded'
      from generate_series(1, 25000) as n`.execute(t.app.database.db);
    const [full] = await t.app.crls.publishNow("cli:test", issuingId);
    expect(full!.der.length).toBeGreaterThan(1 << 20);
    const other = crlPublisher({
      database: t.app.database,
      issuers: issuerRepository(t.app.database.db),
      keyStore: t.app.keyStore,
      clock: t.app.clock,
      audit: t.app.audit,
      outbox: t.app.events,
      artefacts: new ArtefactStore(dir.file("other-node")), // another node: its own data directory
      publicUrl: () => t.app.authority.publicUrl(),
    });
    await other.sync();
    expect(Buffer.from(other.served(`crl/${issuingId}.crl`)!.bytes).equals(Buffer.from(full!.der))).toBe(
      true,
    );
    await dir.write("parts.crl.pem", toPem("X509 CRL", other.served(`crl/${issuingId}.crl`)!.bytes));
    expect((await text("parts.crl.pem")).stderr).toContain("verify OK");
  });

  test("the whole chain checks against the root's CRL and the issuing CA's (-crl_check_all)", async () => {
    await device("SN-CRL-CHAIN");
    const rootId = (await t.app.authority.cas()).find((c) => c.kind === "root")!.id;
    const crls = await t.app.crls.publishNow("cli:test");
    for (const id of [rootId, issuingId]) {
      const full = crls.find((c) => c.issuerId === id && c.kind === "full")!;
      await dir.write(`${id}.crl.pem`, toPem("X509 CRL", full.der));
    }
    const checked = await openssl([
      "verify",
      "-crl_check_all",
      "-CAfile",
      dir.file("chain.pem"),
      "-CRLfile",
      dir.file(`${rootId}.crl.pem`),
      "-CRLfile",
      dir.file(`${issuingId}.crl.pem`),
      dir.file("SN-CRL-CHAIN.pem"),
    ]);
    expect(checked.stdout.trim()).toMatch(/SN-CRL-CHAIN\.pem: OK$/);
  });

  test("an unknown CA is not-found and publishes nothing", async () => {
    await expect(t.app.crls.publishNow("cli:test", "ca-0000000000")).rejects.toMatchObject({
      code: "not-found",
    });
  });
});
