/**
 * Issue 18, item 1's done-when: `keyfleet init --hsm` puts the root and issuing CA keys in a
 * PKCS#11 token (SoftHSM2, a token of this test's own), and `keyfleet serve` signs with keys in the
 * token: a certificate (`openssl verify -x509_strict`), the CRLs (`openssl crl -verify`), an OCSP
 * response (`openssl ocsp`, from the delegated responder, whose key is in the token too) and an
 * audit checkpoint (`keyfleet audit verify`, whose key is in the token too). pkcs11-tool sees the
 * private keys as sensitive and never extractable; neither CKA_VALUE nor a wrapped copy comes out.
 * On PGlite (the CLI through the server) and on PostgreSQL (each command in its own process).
 */
import { execFile, type ChildProcess } from "node:child_process";
import { createServer } from "node:net";
import { mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import pkcs11js from "pkcs11js";
import { afterAll, beforeAll, expect, test } from "vitest";
import { openDatabase, type Database } from "../src/store/index.js";
import { keyfleetServe, runCli, stop, type CliResult } from "./support/cli.js";
import { adminQuery, forEachDatabase } from "./support/databases.js";
import { openssl, opensslCsr, workdir, type Workdir } from "./support/openssl.js";
import { softHsmToken, type SoftHsmToken } from "./support/softhsm.js";

const exec = promisify(execFile);
const postgresUrl = process.env.TEST_DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/test";

function ok(res: CliResult): string {
  expect(res.stderr, res.stderr).not.toMatch(/^keyfleet: (?!warning)/m);
  expect(res.code, res.stderr).toBe(0);
  return res.stdout;
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const port = (server.address() as { port: number }).port;
  await new Promise((r) => server.close(r));
  return port;
}

/** pkcs11-tool's own listing of the token's private keys (it logs in with the PIN, as an operator would). */
async function privateKeys(token: SoftHsmToken): Promise<string> {
  const { stdout } = await exec(
    "pkcs11-tool",
    [
      "--module",
      token.module,
      "--token-label",
      token.token,
      "--login",
      "--pin",
      token.pin,
      "--list-objects",
      "--type",
      "privkey",
    ],
    { env: { ...process.env, ...token.env } },
  );
  return stdout;
}

/** The listing's entry for the object labelled `label`, up to the next object. */
const entryOf = (listing: string, label: string): string =>
  listing.split(/(?=Private Key Object)/).find((e) => e.includes(`label:      ${label}\n`)) ?? "";

/** Tries to read each private key out of the token, as any logged-in caller could: CKA_VALUE, then a wrap. */
function tryToExtract(token: SoftHsmToken): { values: string[]; wraps: string[]; keys: number } {
  const cryptoki = new pkcs11js.PKCS11();
  cryptoki.load(token.module);
  cryptoki.C_Initialize({ flags: pkcs11js.CKF_OS_LOCKING_OK });
  const refusal = (f: () => unknown): string => {
    try {
      f();
      return "returned";
    } catch (e) {
      return (e as Error).message;
    }
  };
  try {
    const slot = cryptoki
      .C_GetSlotList(true)
      .find((s) => cryptoki.C_GetTokenInfo(s).label.trimEnd() === token.token)!;
    const session = cryptoki.C_OpenSession(slot, pkcs11js.CKF_SERIAL_SESSION | pkcs11js.CKF_RW_SESSION);
    cryptoki.C_Login(session, pkcs11js.CKU_USER, token.pin);
    cryptoki.C_FindObjectsInit(session, [{ type: pkcs11js.CKA_CLASS, value: pkcs11js.CKO_PRIVATE_KEY }]);
    const keys = cryptoki.C_FindObjects(session, 100);
    cryptoki.C_FindObjectsFinal(session);
    // A wrapping key of the caller's own, made to wrap (a session object: gone with the session).
    const kek = cryptoki.C_GenerateKey(session, { mechanism: pkcs11js.CKM_AES_KEY_GEN }, [
      { type: pkcs11js.CKA_CLASS, value: pkcs11js.CKO_SECRET_KEY },
      { type: pkcs11js.CKA_VALUE_LEN, value: 32 },
      { type: pkcs11js.CKA_WRAP, value: true },
      { type: pkcs11js.CKA_TOKEN, value: false },
    ]);
    const values = keys.map((key) =>
      refusal(() => cryptoki.C_GetAttributeValue(session, key, [{ type: pkcs11js.CKA_VALUE }])),
    );
    const wraps = keys.map((key) =>
      refusal(() =>
        cryptoki.C_WrapKey(
          session,
          { mechanism: pkcs11js.CKM_AES_KEY_WRAP_PAD },
          kek,
          key,
          Buffer.alloc(4096),
        ),
      ),
    );
    cryptoki.C_CloseSession(session);
    return { values, wraps, keys: keys.length };
  } finally {
    cryptoki.C_Finalize();
    cryptoki.close();
  }
}

forEachDatabase("keyfleet init --hsm, then serve, with the CA keys in SoftHSM2", (kind) => {
  let token: SoftHsmToken;
  let root: string;
  let dir: Workdir;
  let env: NodeJS.ProcessEnv;
  let schema: string | undefined;
  let server: { child: ChildProcess; banner: string } | undefined;
  let publicUrl: string;
  let cas: { id: string; kind: string }[];
  const data = () => join(root, "data");
  const kf = (...args: string[]) => runCli(["--data", data(), ...args], env);

  beforeAll(async () => {
    token = await softHsmToken("keyfleet-ca");
    root = await mkdtemp(join(tmpdir(), "keyfleet-hsm-"));
    dir = await workdir();
    const pinFile = join(root, "pin");
    await writeFile(pinFile, `${token.pin}\n`, { mode: 0o600 });
    env = {
      ...token.env,
      KEYFLEET_PASSPHRASE: "hsm test passphrase, for the TLS key",
      KEYFLEET_PKCS11_MODULE: token.module,
      KEYFLEET_PKCS11_TOKEN: token.token,
      // Both ways of giving the PIN: from a file on PGlite, in the environment on PostgreSQL.
      ...(kind === "pglite" ? { KEYFLEET_PKCS11_PIN_FILE: pinFile } : { KEYFLEET_PKCS11_PIN: token.pin }),
    };
    if (kind === "postgres") {
      schema = `keyfleet_hsm_${Date.now().toString(36)}`;
      await adminQuery(postgresUrl, `create schema ${schema}`);
      const u = new URL(postgresUrl);
      u.searchParams.set("options", `-c search_path=${schema}`);
      env.DATABASE_URL = u.toString();
    }
    const port = await freePort();
    publicUrl = `http://127.0.0.1:${port}`;
    const init = JSON.parse(ok(await kf("--json", "init", "--hsm", "--public-url", publicUrl))) as {
      cas: { id: string; kind: string }[];
      keyStore: string;
      token: string;
    };
    expect(init).toMatchObject({ keyStore: "pkcs11", token: "keyfleet-ca" });
    cas = init.cas;
    server = await keyfleetServe(["--data", data(), "--http-port", String(port), "--https-port", "0"], env);
    await delegatedResponder();
  });

  /**
   * Waits until the server's delegated OCSP responder answers (a background task makes it at the
   * first start, and a loaded machine may take a while): what the OCSP and key-record tests look at.
   */
  /** The chain, the issuing CA's certificate and a newly issued leaf, as files named after `name`. */
  async function issuedFiles(name: string) {
    const chain = await dir.write(`${name}-chain.pem`, JSON.parse(ok(await kf("--json", "ca", "chain"))).pem);
    const issuing = await dir.write(
      `${name}-issuing.pem`,
      (await readFile(chain, "utf8")).split(/(?<=-----END CERTIFICATE-----\n)/)[0]!,
    );
    const csr = await dir.write(`${name}.csr`, await opensslCsr(dir, "p256", `/CN=${name}`));
    const leaf = await dir.write(`${name}.pem`, ok(await kf("cert", "issue", "--csr", csr)));
    return { chain, issuing, leaf };
  }

  /** `openssl ocsp` about `leaf`, with the response shown. */
  const ocspOf = (files: { chain: string; issuing: string; leaf: string }) =>
    openssl([
      "ocsp",
      "-url",
      `${publicUrl}/ocsp`,
      "-issuer",
      files.issuing,
      "-cert",
      files.leaf,
      "-CAfile",
      files.chain,
      "-resp_text",
    ]);

  async function delegatedResponder(): Promise<void> {
    const files = await issuedFiles("responder-ready");
    const issuingId = cas.find((c) => c.kind === "intermediate")!.id;
    for (const deadline = Date.now() + 120_000; ;) {
      const answer = await ocspOf(files).catch(() => ({ stdout: "" }));
      if (answer.stdout.includes(`OCSP Responder ${issuingId}`)) return;
      if (Date.now() > deadline)
        throw new Error("the server made no delegated OCSP responder in two minutes");
      await new Promise((r) => setTimeout(r, 500));
    }
  }

  afterAll(async () => {
    if (server) await stop(server.child);
    if (schema) await adminQuery(postgresUrl, `drop schema ${schema} cascade`);
    await rm(root, { recursive: true, force: true });
    await dir?.dispose();
    await token?.dispose();
  });

  const caId = (k: "root" | "intermediate") => cas.find((c) => c.kind === k)!.id;

  test("both CA keys are in the token, sensitive and never extractable, and they are the keys the CA certificates certify", async () => {
    const listing = await privateKeys(token);
    for (const [ca, label] of [
      [caId("root"), `${caId("root")} root`],
      [caId("intermediate"), `${caId("intermediate")} issuing`],
    ] as const) {
      const entry = entryOf(listing, label);
      expect(entry, listing).toMatch(/Access:\s+sensitive, always sensitive, never extractable, local/);
      expect(entry).toMatch(/Usage:\s+sign\n/);
      // The token's public key (read by pkcs11-tool) is the one in the CA's certificate.
      const pub = join(root, `${ca}.pub.der`);
      await exec(
        "pkcs11-tool",
        [
          "--module",
          token.module,
          "--token-label",
          token.token,
          "--read-object",
          "--type",
          "pubkey",
          "--label",
          label,
          "-o",
          pub,
        ],
        { env: { ...process.env, ...token.env } },
      );
      const cert = await dir.write(
        `${ca}.pem`,
        await (await fetch(`${publicUrl}/ca/${ca}.cer`)).arrayBuffer().then((b) => Buffer.from(b)),
      );
      const { stdout } = await openssl(["x509", "-inform", "DER", "-in", cert, "-pubkey", "-noout"]);
      const certified = Buffer.from(stdout.replace(/-----[^-]+-----|\s/g, ""), "base64");
      expect(certified.equals(await readFile(pub))).toBe(true);
    }
  });

  test("a certificate, the CRLs, an OCSP response and a checkpoint, all signed in the token, verify with openssl and the checkpoint verifier", async () => {
    const { chain, issuing, leaf } = await issuedFiles("hsm-device");
    expect((await openssl(["verify", "-x509_strict", "-CAfile", chain, leaf])).stdout).toBe(`${leaf}: OK\n`);

    const out = join(root, "crl");
    ok(await kf("crl", "publish", "--out", out));
    const crls = (await readdir(out)).filter((f) => f.endsWith(".crl"));
    expect(crls.sort()).toEqual(
      [caId("root"), caId("intermediate")].flatMap((ca) => [`${ca}-delta.crl`, `${ca}.crl`]).sort(),
    );
    for (const crl of crls) {
      const verified = await openssl([
        "crl",
        "-inform",
        "DER",
        "-in",
        join(out, crl),
        "-noout",
        "-verify",
        "-CAfile",
        chain,
      ]);
      expect(verified.stderr).toContain("verify OK");
    }

    const ocsp = await ocspOf({ chain, issuing, leaf });
    expect(ocsp.stdout).toContain(`${leaf}: good`);
    expect(ocsp.stderr).toContain("Response verify OK");
    expect(ocsp.stdout).toContain(`OCSP Responder ${caId("intermediate")}`); // the delegated responder signed it

    const key = ok(await kf("audit", "key")).trim();
    ok(await kf("audit", "head"));
    const exported = join(root, "log.jsonl");
    await writeFile(exported, ok(await kf("audit", "export")));
    const offline = await runCli(["audit", "verify", "--from-export", exported, "--key", key], {
      KEYFLEET_DATA: "/nonexistent",
    });
    expect(ok(offline)).toMatch(
      /^audit log verified: \d+ entries, [1-9]\d* checkpoints signed by 127\.0\.0\.1/,
    );

    // The delegated responder's key and the audit log's key went where the CA keys are.
    const listing = await privateKeys(token);
    for (const label of [`${caId("intermediate")} ocsp responder`, "audit log"]) {
      expect(entryOf(listing, label), listing).toMatch(
        /Access:\s+sensitive, always sensitive, never extractable, local/,
      );
    }
  });

  test("no private key can be read out of the token: CKA_VALUE is refused, and so is wrapping it", async () => {
    const tried = tryToExtract(token);
    expect(tried.keys).toBeGreaterThanOrEqual(2);
    expect(new Set(tried.values)).toEqual(new Set(["CKR_ATTRIBUTE_SENSITIVE"]));
    expect(new Set(tried.wraps)).toEqual(new Set(["CKR_KEY_UNEXTRACTABLE"]));
  });

  test("the key records name the token's keys by PKCS#11 URI; no CA, responder or audit key is sealed in the database", async () => {
    await stop(server!.child);
    server = undefined;
    const database: Database = await openDatabase(
      kind === "postgres" ? { url: postgresUrl, schema: schema! } : { dataDir: join(data(), "pglite") },
    );
    try {
      const keys = await database.db
        .selectFrom("keys")
        .select(["purpose", "store", "uri", "state"])
        .execute();
      const signing = keys.filter((k) => k.purpose !== "tls-server");
      expect(signing.map((k) => k.purpose).sort()).toEqual(["audit", "ca", "ca", "ocsp-responder"]);
      for (const k of signing) {
        expect(k).toMatchObject({ store: "pkcs11", state: "active" });
        expect(k.uri).toMatch(/^pkcs11:token=keyfleet-ca;object=[^;]+;id=(%[0-9a-f]{2}){16}$/);
      }
      const sealed = await database.db.selectFrom("sealed_keys").select("handle").execute();
      const tls = keys.filter((k) => k.purpose === "tls-server");
      expect(sealed.map((s) => `keyfleet-sealed:${s.handle}`).sort()).toEqual(tls.map((k) => k.uri).sort());
    } finally {
      await database.close();
    }
  });
});
