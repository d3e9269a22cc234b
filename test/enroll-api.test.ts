/**
 * The native enrollment API (issue 16): challenge → CSR + evidence (a signature by the device's
 * IDevID key over nonce ‖ SHA-256(CSR)) → certificate and chain; a bootstrap token instead of
 * evidence; bootstrap tokens made over the admin API; and the refusals (a replayed nonce, a
 * signature by another key, no credential), each changing nothing and recorded.
 */
import { createHash, sign } from "node:crypto";
import { readFile } from "node:fs/promises";
import { afterAll, beforeAll, expect, test } from "vitest";
import type { RunningServers } from "../src/http/index.js";
import { testCertificate, testKeyPair, type TestKeyPair } from "../src/pki/test-certificate.js";
import { systemCaller } from "../src/policy/index.js";
import type { TestApp } from "./support/app.js";
import { forEachDatabase } from "./support/databases.js";
import type { EstWorkspace } from "./support/est.js";
import { registeredManufacturer } from "./support/idevid.js";
import { enrollmentServer, type EnrollmentServer } from "./support/enrollment-server.js";

forEachDatabase("native enrollment API", (kind) => {
  let t: TestApp;
  let servers: RunningServers;
  let est: EstWorkspace;
  const api = (path: string) => `${servers.httpsUrl}/api/v1/${path}`;
  const json = (body: object, more: readonly string[] = []) => [
    "-X",
    "POST",
    "-H",
    "Content-Type: application/json",
    "--data-binary",
    JSON.stringify(body),
    ...more,
  ];
  const leaves = async (type: string) =>
    (await t.db.database.db.selectFrom("audit_leaves").select("entry").execute())
      .map((r) => JSON.parse(r.entry) as { type: string; details: Record<string, unknown> })
      .filter((e) => e.type === type);
  let server: EnrollmentServer;
  beforeAll(async () => {
    server = await enrollmentServer(kind);
    ({ t, servers, est } = server);
  });
  afterAll(async () => {
    await server?.dispose();
  });

  const deviceWithIdevid = async (serial: string, maker: string) => {
    const manufacturer = await registeredManufacturer(t.db.database, maker);
    const key = testKeyPair("p256");
    const now = Date.now();
    const idevid = testCertificate({
      commonName: serial,
      key,
      issuer: manufacturer.ca,
      notBefore: new Date(now - 86_400_000),
      notAfter: new Date(now + 365 * 86_400_000),
    }).der;
    const id = (
      await t.app.devices.register({ serialNumber: serial, manufacturer: maker, idevid }, systemCaller)
    ).id;
    return { id, key };
  };
  const csrOf = async (name: string, subject: string) => {
    await est.key(name);
    const b64 = (await est.csr(name, subject)).replace(/\n/g, "");
    return { b64, der: await readFile(est.path(`${name}.csr.der`)) };
  };
  const evidence = (key: TestKeyPair, nonce: string, der: Uint8Array) => ({
    type: "signature",
    signature: sign(
      "sha256",
      Buffer.concat([Buffer.from(nonce), createHash("sha256").update(der).digest()]),
      key.privateKey,
    ).toString("base64"),
  });

  test("challenge, CSR and evidence signed by the IDevID key: a certificate and its chain; the nonce is spent", async () => {
    const { id, key } = await deviceWithIdevid("SN-NATIVE-1", "NativeCo");
    const challenge = await est.curl(api(`enroll/nonce?device=${id}`), []);
    expect(challenge.status).toBe(200);
    const { nonce } = JSON.parse(challenge.body) as { nonce: string };
    const csr = await csrOf("n1", "/CN=SN-NATIVE-1");
    const body = { deviceId: id, csr: csr.b64, nonce, evidence: evidence(key, nonce, csr.der) };
    const answer = await est.curl(api("enroll"), json(body));
    expect(answer.status, answer.body).toBe(200);
    const issued = JSON.parse(answer.body) as { certificate: string; chain: string[]; deviceId: string };
    expect(issued.deviceId).toBe(id);
    expect(issued.chain).toHaveLength(2);
    expect((await est.verify(issued.certificate)).stdout).toContain("OK");
    expect((await t.app.devices.get(id, systemCaller)).state).toBe("provisioned");
    const [transition] = (await leaves("device.transitioned")).filter((e) => e.details.device === id);
    expect(transition!.details.evidence).toEqual([
      { kind: "proof-of-possession", ref: expect.stringMatching(/^signature-key-sha256:/) },
    ]);

    const count = await t.certificateCount();
    const replay = await est.curl(api("enroll"), json(body));
    expect(replay.status).toBe(400);
    expect(JSON.parse(replay.body)).toMatchObject({ code: "invalid-nonce" });
    expect(await t.certificateCount()).toBe(count);
    expect((await leaves("enrollment.refused")).map((e) => e.details.code)).toContain("invalid-nonce");
  });

  test("evidence signed by another key, or over another CSR, is refused and issues nothing", async () => {
    const { id, key } = await deviceWithIdevid("SN-NATIVE-2", "OtherCo");
    const nonce = (
      JSON.parse((await est.curl(api(`enroll/nonce?device=${id}`), [])).body) as { nonce: string }
    ).nonce;
    const csr = await csrOf("n2", "/CN=SN-NATIVE-2");
    const other = await csrOf("n3", "/CN=SN-NATIVE-2");
    const count = await t.certificateCount();
    for (const signed of [evidence(testKeyPair("p256"), nonce, csr.der), evidence(key, nonce, other.der)]) {
      const answer = await est.curl(
        api("enroll"),
        json({ deviceId: id, csr: csr.b64, nonce, evidence: signed }),
      );
      expect(answer.status).toBe(400);
      expect(JSON.parse(answer.body)).toMatchObject({ code: "bad-signature" });
    }
    expect(await t.certificateCount()).toBe(count);
    expect((await t.app.devices.get(id, systemCaller)).state).toBe("registered");
    // The nonce was not spent by the refusals: the right evidence still enrolls.
    const good = await est.curl(
      api("enroll"),
      json({ deviceId: id, csr: csr.b64, nonce, evidence: evidence(key, nonce, csr.der) }),
    );
    expect(good.status).toBe(200);
  });

  test("a bootstrap token made over the admin API enrolls through the JSON API as Bearer", async () => {
    const operator = await t.app.tokens.create({ role: "operator" });
    const id = (await t.app.devices.register({ serialNumber: "SN-NATIVE-3" }, systemCaller)).id;
    const unauthenticated = await est.curl(api(`devices/${id}/bootstrap-tokens`), json({}));
    expect(unauthenticated.status).toBe(401);
    const made = await est.curl(
      api(`devices/${id}/bootstrap-tokens`),
      json({ ttlSeconds: 600 }, ["-H", `Authorization: Bearer ${operator.token}`]),
    );
    expect(made.status, made.body).toBe(201);
    const { token } = JSON.parse(made.body) as { token: string };
    expect(token).toMatch(/^kfb_/);
    const csr = await csrOf("n4", "/CN=SN-NATIVE-3");
    const none = await est.curl(api("enroll"), json({ csr: csr.b64 }));
    expect(none.status).toBe(401);
    const answer = await est.curl(
      api("enroll"),
      json({ csr: csr.b64 }, ["-H", `Authorization: Bearer ${token}`]),
    );
    expect(answer.status, answer.body).toBe(200);
    expect((await t.app.devices.get(id, systemCaller)).state).toBe("provisioned");
    expect(await t.logs()).not.toContain(token); // the secret is never logged
  });
});
