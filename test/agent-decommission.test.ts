/**
 * Decommission on the device (issue 17 item 5): a retired device, its certificates on hold, still
 * learns from a signed status check that it is to erase; the agent signs the server's nonce ‖
 * "erased", destroys its keys (SoftHSM2: the objects are gone from the token; file store: the file
 * is gone) and sends the report, which the server verifies and keeps as the evidence the device's
 * finalize carries. A replayed, forged or out-of-state report is refused, changes nothing and is an
 * audit leaf; the erased agent refuses to enroll or renew again.
 */
import { createPrivateKey, sign } from "node:crypto";
import { readFile, readdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, expect, test } from "vitest";
import { openPkcs11KeyStore } from "../src/crypto/index.js";
import type { RunningServers } from "../src/http/index.js";
import { fromPem } from "../src/pki/index.js";
import { systemCaller } from "../src/policy/index.js";
import type { TestApp } from "./support/app.js";
import { forEachDatabase } from "./support/databases.js";
import { run, type EstWorkspace } from "./support/est.js";
import { softHsmToken } from "./support/softhsm.js";
import { agent, enrollmentServer, type EnrollmentServer } from "./support/enrollment-server.js";

forEachDatabase("decommission on the device", (kind) => {
  let t: TestApp;
  let servers: RunningServers;
  let est: EstWorkspace;
  let n = 0;
  const api = (path: string) => `${servers.httpsUrl}/api/v1/${path}`;
  const post = (path: string, body: object) =>
    est.curl(api(path), [
      "-X",
      "POST",
      "-H",
      "Content-Type: application/json",
      "--data-binary",
      JSON.stringify(body),
    ]);
  const leaves = async (type: string) =>
    (await t.db.database.db.selectFrom("audit_leaves").select("entry").execute())
      .map((r) => JSON.parse(r.entry) as { type: string; details: Record<string, unknown> })
      .filter((e) => e.type === type);
  const reports = async (deviceId: string) =>
    t.db.database.db.selectFrom("erase_reports").selectAll().where("device_id", "=", deviceId).execute();
  let server: EnrollmentServer;
  beforeAll(async () => {
    server = await enrollmentServer(kind);
    ({ t, servers, est } = server);
  });
  afterAll(async () => {
    await server?.dispose();
  });

  /** A device enrolled by the agent (file key store unless `flags` say otherwise), active. */
  async function enrolled(flags: readonly string[] = []) {
    const serial = `SN-RETIRE-${kind}-${++n}`;
    const id = (await t.app.devices.register({ serialNumber: serial }, systemCaller)).id;
    const { token } = await t.app.bootstrapTokens.create(systemCaller, { deviceId: id });
    const state = est.path(`state-${n}`);
    const enrolling = [
      "--server",
      servers.httpsUrl,
      "--device",
      id,
      "--ca-bundle",
      est.path("chain.pem"),
      ...flags,
    ];
    const done = await agent("enroll", "--state", state, ...enrolling, "--token", token);
    expect(done, done.err.join("\n")).toMatchObject({ code: 0, err: [] });
    return { id, state, enrolling };
  }

  test("a retired device learns it is to erase, erases its file key and reports it; finalize carries the report", async () => {
    const { id, state, enrolling } = await enrolled();
    expect(await readdir(join(state, "keys"))).toHaveLength(1);
    const calm = await agent("check-in", "--state", state, "--json");
    expect(calm, calm.err.join("\n")).toMatchObject({ code: 0, err: [] });
    expect(JSON.parse(calm.out[0]!)).toEqual({
      state: "active",
      action: "none",
      erased: false,
      renewAt: expect.stringMatching(/^\d{4}-\d{2}-\d{2}T/),
    });
    expect(await readdir(join(state, "keys"))).toHaveLength(1);

    await t.app.devices.apply(id, { kind: "retire" }, systemCaller);
    const told = await agent("check-in", "--state", state);
    expect(told, told.err.join("\n")).toMatchObject({ code: 0, err: [] });
    expect(told.out).toEqual([
      "state:     decommissioning",
      "action:    erase",
      expect.stringMatching(/^erased: {4}\S+ \(the device's keys are destroyed\)$/),
      "reported:  yes, the server has the signed report",
    ]);
    expect(await readdir(join(state, "keys"))).toEqual([]); // overwritten, synced and unlinked
    const record = JSON.parse(await readFile(join(state, "erased.json"), "utf8")) as Record<string, unknown>;
    expect(record).toMatchObject({ destroyed: true, reportedAt: expect.any(String) });
    const [kept] = await reports(id);
    expect(kept).toBeDefined();
    expect((await leaves("device.erase-reported")).map((e) => e.details.device)).toContain(id);

    // The server says so to a status check now; the agent, erased, answers from its record.
    const again = await agent("check-in", "--state", state, "--json");
    expect(JSON.parse(again.out[0]!)).toMatchObject({ erase: { reported: true } });

    const finalized = await t.app.devices.apply(id, { kind: "finalize" }, systemCaller);
    expect(finalized.event.evidence).toContainEqual({
      kind: "erasure",
      ref: `erase-report:${kept!.id}`,
      passed: true,
    });

    // The erased agent refuses to enroll or renew again, and says why.
    for (const args of [
      ["enroll", "--state", state, ...enrolling, "--token", "kfb_anything"],
      ["renew", "--state", state],
    ]) {
      const refused = await agent(...args);
      expect(refused.code).toBe(1);
      expect(refused.err[0]).toMatch(
        /^keyfleet-agent: cannot (enroll|renew): this device erased its key at \S+ because it is being retired .* it does not enroll again \(invalid-transition\)$/,
      );
    }
  });

  test("a device finalized while it was offline still learns to erase when it comes back", async () => {
    const { id, state } = await enrolled();
    await t.app.devices.apply(id, { kind: "retire" }, systemCaller);
    await t.app.devices.apply(id, { kind: "finalize" }, systemCaller); // its certificates revoked now
    const back = await agent("check-in", "--state", state, "--json");
    expect(back, back.err.join("\n")).toMatchObject({ code: 0, err: [] });
    expect(JSON.parse(back.out[0]!)).toMatchObject({
      state: "decommissioned",
      action: "erase",
      erase: {
        reported: false,
        pending: expect.stringMatching(
          /only a decommissioning device reports that it erased its key" \(conflict\)$/,
        ),
      },
    });
    expect(await readdir(join(state, "keys"))).toEqual([]);
    expect(await reports(id)).toEqual([]);
    // Its revoked certificate still authenticates nothing else: EST re-enrollment refuses it.
    expect((await agent("renew", "--state", state)).err[0]).toMatch(/\(invalid-transition\)$/);
  });

  test("a key in SoftHSM2 is destroyed in the token (C_DestroyObject): the objects are gone", async () => {
    const token = await softHsmToken();
    try {
      await writeFile(est.path(`pin-${kind}`), `${token.pin}\n`);
      const hsm = [
        "--key-store",
        "pkcs11",
        "--pkcs11-module",
        token.module,
        "--pkcs11-token",
        token.token,
        "--pkcs11-pin-file",
        est.path(`pin-${kind}`),
      ];
      const { id, state } = await enrolled(hsm);
      const objects = () =>
        run("pkcs11-tool", [
          "--module",
          token.module,
          "--token-label",
          token.token,
          "--login",
          "--pin",
          token.pin,
          "--list-objects",
        ]).then((r) => r.stdout);
      expect(await objects()).toMatch(new RegExp(`label:\\s+keyfleet-agent ${id}`));
      const saved = JSON.parse(await readFile(join(state, "agent.json"), "utf8")) as {
        key: { store: string; handle: string; algorithm: "p256"; publicKey: string };
      };

      await t.app.devices.apply(id, { kind: "retire" }, systemCaller);
      const told = await agent("check-in", "--state", state, "--json");
      expect(told, told.err.join("\n")).toMatchObject({ code: 0, err: [] });
      expect(JSON.parse(told.out[0]!)).toMatchObject({ action: "erase", erase: { reported: true } });

      expect(await objects()).not.toContain(`keyfleet-agent ${id}`);
      // Through the module itself: the token has no such key any more.
      const element = await openPkcs11KeyStore({ module: token.module, token: token.token, pin: token.pin });
      try {
        // The state file keeps a token key's PKCS#11 URI as its handle.
        const ref = {
          uri: saved.key.handle,
          algorithm: saved.key.algorithm,
          publicKey: new Uint8Array(Buffer.from(saved.key.publicKey, "base64")),
        };
        await expect(element.signer(ref)).rejects.toMatchObject({ code: "key-not-found" });
      } finally {
        element.close();
      }
      expect(await reports(id)).toHaveLength(1);
    } finally {
      await token.dispose();
    }
  });

  test("a replayed, forged, foreign or out-of-state report is refused, recorded and changes nothing", async () => {
    const { id, state } = await enrolled();
    const [keyFile] = await readdir(join(state, "keys"));
    const key = createPrivateKey({
      key: await readFile(join(state, "keys", keyFile!)),
      format: "der",
      type: "pkcs8",
    });
    const [leaf] = fromPem(await readFile(join(state, "certificate.pem"), "utf8"), "CERTIFICATE");
    const certificate = Buffer.from(leaf!).toString("base64");
    const nonce = async () =>
      (JSON.parse((await est.curl(api(`enroll/nonce?device=${id}`), [])).body) as { nonce: string }).nonce;
    const signed = (n: string, purpose: string, k = key) =>
      sign("sha256", Buffer.from(`${n}${purpose}`), k).toString("base64");
    const refusedCodes = async () => (await leaves("enrollment.refused")).map((e) => e.details.code);

    // An active device is not being retired: it has nothing to report.
    const early = await nonce();
    const notNow = await post("enroll/erased", {
      deviceId: id,
      nonce: early,
      certificate,
      signature: signed(early, "erased"),
    });
    expect(notNow.status).toBe(409);
    expect(JSON.parse(notNow.body)).toMatchObject({ code: "invalid-transition" });

    await t.app.devices.apply(id, { kind: "retire" }, systemCaller);
    // A status signature is not an erase report (and the other way round).
    const n1 = await nonce();
    const wrongPurpose = await post("enroll/erased", {
      deviceId: id,
      nonce: n1,
      certificate,
      signature: signed(n1, "status"),
    });
    expect(JSON.parse(wrongPurpose.body)).toMatchObject({ code: "bad-signature" });
    // Forged: another key.
    const other = createPrivateKey(await est.key(`forger-${kind}`));
    const forged = await post("enroll/erased", {
      deviceId: id,
      nonce: n1,
      certificate,
      signature: signed(n1, "erased", other),
    });
    expect(forged.status).toBe(400);
    expect(JSON.parse(forged.body)).toMatchObject({ code: "bad-signature" });
    // Another device's name on this certificate.
    const foreign = await post("enroll/status", {
      deviceId: "some-other-device",
      nonce: n1,
      certificate,
      signature: signed(n1, "status"),
    });
    expect(foreign.status).toBe(401);
    // Not a certificate at all, and a body that is not the schema's.
    const garbage = await post("enroll/status", {
      deviceId: id,
      nonce: n1,
      certificate: "AAAA",
      signature: "AAAA",
    });
    expect(garbage.status).toBe(401);
    const extra = await post("enroll/status", { deviceId: id, nonce: n1, certificate, signature: "x", x: 1 });
    expect(extra.status).toBe(400);
    expect(await reports(id)).toEqual([]);

    // The status check works while the certificate is on hold, and spends its nonce.
    const status = await post("enroll/status", {
      deviceId: id,
      nonce: n1,
      certificate,
      signature: signed(n1, "status"),
    });
    expect(status.status, status.body).toBe(200);
    expect(JSON.parse(status.body)).toEqual({
      deviceId: id,
      state: "decommissioning",
      action: "erase",
      erased: false,
    });
    const reused = await post("enroll/status", {
      deviceId: id,
      nonce: n1,
      certificate,
      signature: signed(n1, "status"),
    });
    expect(JSON.parse(reused.body)).toMatchObject({ code: "invalid-nonce" });

    // The real report is taken once; its replay is refused.
    const n2 = await nonce();
    const report = { deviceId: id, nonce: n2, certificate, signature: signed(n2, "erased") };
    const taken = await post("enroll/erased", report);
    expect(taken.status, taken.body).toBe(201);
    const replay = await post("enroll/erased", report);
    expect(replay.status).toBe(400);
    expect(JSON.parse(replay.body)).toMatchObject({ code: "invalid-nonce" });
    expect(await reports(id)).toHaveLength(1);
    expect(await refusedCodes()).toEqual(
      expect.arrayContaining(["invalid-transition", "bad-signature", "unauthorized", "invalid-nonce"]),
    );
  });
});
