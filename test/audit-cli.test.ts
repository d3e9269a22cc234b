/**
 * Issue 14 from the command line: `keyfleet audit head | key | prove | export | verify`, an export
 * verified with no database, and a log edited behind Keyfleet's back (PostgreSQL, triggers disabled
 * by the superuser) caught by `audit verify`, which names the first bad entry.
 */
import { randomBytes } from "node:crypto";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, inject, test } from "vitest";
import { leafHash, openCheckpoint, parseVerifierKey, verifyInclusion } from "../src/audit/index.js";
import { runCli, type CliResult } from "./support/cli.js";
import { adminQuery } from "./support/databases.js";
import { opensslCsr, workdir, type Workdir } from "./support/openssl.js";

const passphrase = { KEYFLEET_PASSPHRASE: "audit cli test passphrase" };

function ok(res: CliResult): string {
  expect(res.stderr, res.stderr).toBe("");
  expect(res.code).toBe(0);
  return res.stdout;
}

function refused(res: CliResult, message: RegExp, code: string): void {
  expect(res.code).toBe(1);
  expect(res.stdout).toBe("");
  expect(res.stderr).toMatch(message);
  expect(res.stderr).toMatch(new RegExp(`\\(${code}\\)\\n$`));
  expect(res.stderr.split("\n")).toHaveLength(2); // one line
}

describe("keyfleet audit on PostgreSQL", () => {
  const schema = `kf_audit_${randomBytes(5).toString("hex")}`;
  const url = inject("postgresUrl");
  let env: NodeJS.ProcessEnv;
  let data: string;
  let dir: Workdir;
  let serial: string;
  const kf = (...args: string[]) => runCli(args, env);
  const sqlAs = (text: string) => adminQuery(url, text);

  beforeAll(async () => {
    await adminQuery(url, `create schema ${schema}`);
    const u = new URL(url);
    u.searchParams.set("options", `-c search_path=${schema}`);
    data = await mkdtemp(join(tmpdir(), "keyfleet-audit-cli-"));
    env = { ...passphrase, DATABASE_URL: u.toString(), KEYFLEET_DATA: data };
    dir = await workdir();
    ok(await kf("init", "--public-url", "http://pki.audit.test"));
    const csr = await dir.write("device.csr", await opensslCsr(dir, "p256", "/CN=audited"));
    for (let i = 0; i < 6; i++)
      serial = JSON.parse(ok(await kf("--json", "cert", "issue", "--csr", csr))).serial;
    ok(await kf("token", "create", "--role", "auditor"));
  });
  afterAll(async () => {
    await adminQuery(url, `drop schema ${schema} cascade`);
    await rm(data, { recursive: true, force: true });
    await dir?.dispose();
  });

  test("head, key and prove: the issuance of a certificate is in a checkpoint any signed-note verifier accepts", async () => {
    const key = ok(await kf("audit", "key")).trim();
    expect(key).toMatch(/^pki\.audit\.test\/keyfleet\/audit\/[0-9a-f]{8}\+[0-9a-f]{8}\+A[A-Za-z0-9+/]{43}$/);
    const head = ok(await kf("audit", "head"));
    const checkpoint = openCheckpoint(head, parseVerifierKey(key));
    // init: 2 CAs, the public URL, the first admin token; 6 certificates; 1 token.
    expect(checkpoint.size).toBe(4 + 6 + 1);

    const proof = JSON.parse(ok(await kf("--json", "audit", "prove", "--serial", serial))) as {
      index: number;
      size: number;
      leaf: string;
      proof: string[];
    };
    expect(JSON.parse(proof.leaf)).toMatchObject({
      type: "certificate.issued",
      subject: `certificate:${serial}`,
    });
    const hashes = proof.proof.map((p) => new Uint8Array(Buffer.from(p, "base64")));
    expect(
      verifyInclusion(
        leafHash(new TextEncoder().encode(proof.leaf)),
        proof.index,
        proof.size,
        hashes,
        checkpoint.root,
      ),
    ).toBe(true);
  });

  test("an export verifies with the key alone, and an edited export does not", async () => {
    const key = ok(await kf("audit", "key")).trim();
    ok(await kf("audit", "head"));
    const exported = ok(await kf("audit", "export"));
    const file = join(data, "log.jsonl");
    await writeFile(file, exported);
    // No database: the environment names none, and the data directory is not Keyfleet's.
    const offline = (args: string[]) => runCli(args, { DATABASE_URL: "", KEYFLEET_DATA: "/nonexistent" });
    expect(ok(await offline(["audit", "verify", "--from-export", file, "--key", key]))).toMatch(
      /^audit log verified: 11 entries, 1 checkpoints signed by pki\.audit\.test/,
    );

    const edited = join(data, "edited.jsonl");
    await writeFile(edited, exported.replace('"profile\\":\\"client\\"', '"profile\\":\\"tls-server\\"'));
    refused(
      await offline(["audit", "verify", "--from-export", edited, "--key", key]),
      /checkpoint 11 does not match/,
      "log-inconsistent",
    );
    const [checkpointLine, ...entryLines] = exported.trimEnd().split("\n");
    expect(JSON.parse(checkpointLine!)).toHaveProperty("checkpoint"); // checkpoints first
    await writeFile(edited, [...entryLines, checkpointLine].join("\n") + "\n");
    refused(
      await offline(["audit", "verify", "--from-export", edited, "--key", key]),
      /checkpoints come before the entries/,
      "malformed-request",
    );
    await writeFile(edited, "not json\n");
    refused(
      await offline(["audit", "verify", "--from-export", edited, "--key", key]),
      /line 1 is not JSON/,
      "malformed-request",
    );
    const otherKey = key.replace(/\+[0-9a-f]{8}\+.*$/, "+00000000+AQ" + "A".repeat(42));
    refused(
      await offline(["audit", "verify", "--from-export", file, "--key", otherKey]),
      /verifier key/,
      "malformed-request",
    );
    refused(await offline(["audit", "verify", "--from-export", file]), /needs --key/, "malformed-request");
  });

  test("refuses proofs outside the log", async () => {
    refused(
      await kf("audit", "prove", "--index", "999"),
      /entry 999 is not in a tree of/,
      "malformed-request",
    );
    refused(await kf("audit", "prove", "--serial", "0a0b"), /records no certificate/, "not-found");
    refused(await kf("audit", "prove"), /one of --index and --serial/, "malformed-request");
  });

  test("a log edited by the superuser is caught: a changed, removed or moved entry is named, rows swapped whole are bracketed by the checkpoint, a removed newest entry shows in the head", async () => {
    expect(ok(await kf("audit", "verify"))).toMatch(/^audit log verified: \d+ entries/);
    const tamper = async (edit: string) => {
      await sqlAs(`alter table ${schema}.audit_leaves disable trigger user`);
      try {
        await sqlAs(edit);
      } finally {
        await sqlAs(`alter table ${schema}.audit_leaves enable trigger user`);
      }
    };
    const entry = async (idx: number) =>
      (await sqlAs(`select entry from ${schema}.audit_leaves where idx = ${idx}`)).rows[0].entry as string;
    const original = { 5: await entry(5), 6: await entry(6), 7: await entry(7) };
    const put = (idx: number, text: string) =>
      tamper(`update ${schema}.audit_leaves set entry = '${text.replace(/'/g, "''")}' where idx = ${idx}`);

    await put(5, original[5].replace('"profile":"client"', '"profile":"tls-server"'));
    refused(await kf("audit", "verify"), /entry 5 was changed/, "log-inconsistent");
    await put(5, original[5]);

    await tamper(`create table ${schema}.kept as select * from ${schema}.audit_leaves where idx = 6`);
    await tamper(`delete from ${schema}.audit_leaves where idx = 6`);
    refused(await kf("audit", "verify"), /entry 6 is missing/, "log-inconsistent");
    await tamper(`insert into ${schema}.audit_leaves select * from ${schema}.kept`);

    await put(6, original[7]);
    await put(7, original[6]);
    refused(await kf("audit", "verify"), /entry 6 was changed/, "log-inconsistent");
    await put(6, original[6]);
    await put(7, original[7]);

    // Whole rows swapped (entry and hash together): the signed checkpoint brackets the change.
    const h = async (idx: number) =>
      (await sqlAs(`select encode(hash, 'hex') as h from ${schema}.audit_leaves where idx = ${idx}`)).rows[0]
        .h as string;
    const [h6, h7] = [await h(6), await h(7)];
    const row = (idx: number, text: string, hash: string) =>
      tamper(
        `update ${schema}.audit_leaves set entry = '${text.replace(/'/g, "''")}', hash = decode('${hash}', 'hex') where idx = ${idx}`,
      );
    await row(6, original[7], h7);
    await row(7, original[6], h6);
    refused(
      await kf("audit", "verify"),
      /checkpoint \d+ does not match the entries: one of entries 0–\d+/,
      "log-inconsistent",
    );
    await row(6, original[6], h6);
    await row(7, original[7], h7);

    // The newest entry removed, after the last checkpoint: the head no longer matches the entries.
    const last = Number((await sqlAs(`select max(idx) as n from ${schema}.audit_leaves`)).rows[0].n);
    ok(await kf("token", "create", "--role", "auditor")); // one entry past the last checkpoint
    await tamper(`delete from ${schema}.audit_leaves where idx = ${last + 1}`);
    refused(await kf("audit", "verify"), /its head says \d+ entries with another tree/, "log-inconsistent");
  });
});
