/**
 * EST enrollment (issue 16) over the real HTTPS listener, with real clients: curl with a bootstrap
 * token (Basic and Bearer), curl with an IDevID as TLS client certificate, simplereenroll with the
 * issued certificate, nonces in the CSR's challengePassword, and every refusal: nothing issued,
 * nothing changed, and an audit leaf for it.
 */
import { writeFile } from "node:fs/promises";
import { afterEach, beforeEach, expect, test } from "vitest";
import { fixedClock } from "../src/domain/index.js";
import { ensureInitialized } from "../src/first-run.js";
import { startServers, type RunningServers } from "../src/http/index.js";
import { toPem } from "../src/pki/index.js";
import { testCertificate, testKeyPair } from "../src/pki/test-certificate.js";
import { systemCaller } from "../src/policy/index.js";
import { testApp, type TestApp } from "./support/app.js";
import { forEachDatabase } from "./support/databases.js";
import { estWorkspace, type EstWorkspace } from "./support/est.js";
import { registeredManufacturer } from "./support/idevid.js";

forEachDatabase("EST", (kind) => {
  let t: TestApp;
  let servers: RunningServers;
  let est: EstWorkspace;
  let clock: ReturnType<typeof fixedClock>;
  const url = (path: string) => `${servers.httpsUrl}/.well-known/est/${path}`;
  const register = async (serial: string, extra: object = {}) =>
    (await t.app.devices.register({ serialNumber: serial, ...extra }, systemCaller)).id;
  const tokenFor = async (deviceId: string, ttlSeconds?: number) =>
    (await t.app.bootstrapTokens.create(systemCaller, { deviceId, ttlSeconds })).token;
  const state = async (deviceId: string) => (await t.app.devices.get(deviceId, systemCaller)).state;
  const leaves = async (type: string) =>
    (await t.db.database.db.selectFrom("audit_leaves").select("entry").execute())
      .map((r) => JSON.parse(r.entry) as { type: string; details: Record<string, unknown> })
      .filter((e) => e.type === type);
  const enroll = (name: string, args: readonly string[], path = "simpleenroll") =>
    est.curl(url(path), [
      "-H",
      "Content-Type: application/pkcs10",
      "--data-binary",
      `@${est.path(`${name}.csr.b64`)}`,
      ...args,
    ]);

  beforeEach(async () => {
    clock = fixedClock(new Date().toISOString());
    t = await testApp(kind, { clock, config: { httpsPort: 0, httpPort: 0 } });
    await ensureInitialized(t.app, { algorithm: "p256" });
    servers = await startServers(t.app);
    est = await estWorkspace((await t.app.authority.chain()).pem);
  });
  afterEach(async () => {
    await servers.close();
    await est.dispose();
    await t.dispose();
  });

  test("cacerts: a certs-only PKCS#7 of the chain, base64 on one line, to anyone", async () => {
    const answer = await est.curl(url("cacerts"), []);
    expect(answer.status).toBe(200);
    expect(answer.contentType).toBe("application/pkcs7-mime; smime-type=certs-only");
    expect(answer.body).toMatch(/^[A-Za-z0-9+/]+=*$/);
    const pems = await est.certificatesOf(answer.body);
    expect(pems.match(/BEGIN CERTIFICATE/g)).toHaveLength(2);
    expect(pems).toContain("Root CA");
  });

  test("simpleenroll with a bootstrap token as Basic: openssl verifies the certificate; the device is provisioned", async () => {
    const id = await register("SN-BASIC-1");
    const token = await tokenFor(id);
    await est.key("d");
    await est.csr("d", "/CN=whatever-the-device-says");
    const answer = await enroll("d", ["-u", `${id}:${token}`]);
    expect(answer.status).toBe(200);
    expect(answer.contentType).toBe("application/pkcs7-mime; smime-type=certs-only");
    const pem = await est.certificatesOf(answer.body);
    expect((await est.verify(pem)).stdout).toContain("OK");
    expect(pem).toContain("subject=CN = SN-BASIC-1, serialNumber = SN-BASIC-1"); // the registry names it
    expect(await state(id)).toBe("provisioned");
    const issued = (await leaves("certificate.issued")).at(-1);
    expect(issued!.details.device).toBe(id);
  });

  test("a bootstrap token used twice is refused the second time, recorded, and changes nothing", async () => {
    const id = await register("SN-REPLAY-1");
    const token = await tokenFor(id);
    await est.key("d");
    await est.csr("d", "/CN=SN-REPLAY-1");
    expect((await enroll("d", ["-u", `${id}:${token}`])).status).toBe(200);
    const certificates = await t.certificateCount();
    const version = (await t.app.devices.get(id, systemCaller)).version;
    const replay = await enroll("d", ["-u", `${id}:${token}`]);
    expect(replay.status).toBe(401);
    expect(replay.body).toMatch(/^keyfleet: the bootstrap token was used already.*\(unauthorized\)\n$/);
    expect(await t.certificateCount()).toBe(certificates);
    expect((await t.app.devices.get(id, systemCaller)).version).toBe(version);
    const refused = await leaves("enrollment.refused");
    expect(refused.map((e) => e.details.code)).toEqual(["unauthorized"]);
    expect(String(refused[0]!.details.reason)).toContain("used already");
  });

  test("a bootstrap token as Bearer; another device's token, an expired one and a made-up one are refused", async () => {
    const a = await register("SN-BEARER-A");
    const b = await register("SN-BEARER-B");
    const tokenA = await tokenFor(a);
    const shortLived = await tokenFor(b, 60);
    await est.key("d");
    await est.csr("d", "/CN=x");
    const wrongDevice = await enroll("d", ["-u", `${b}:${tokenA}`]);
    expect(wrongDevice.status).toBe(401);
    expect(wrongDevice.body).toContain("was issued for another device");
    clock.advance(61);
    const expired = await enroll("d", ["-u", `${b}:${shortLived}`]);
    expect(expired.body).toContain("has expired");
    const madeUp = await enroll("d", [
      "-H",
      "Authorization: Bearer kfb_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
    ]);
    expect(madeUp.body).toContain("is not a bootstrap token Keyfleet issued");
    const none = await enroll("d", []);
    expect(none.status).toBe(401);
    expect(none.body).toContain("enrollment needs a device credential");
    expect(await t.certificateCount()).toBe(3); // the root, the issuing CA, the server's TLS certificate
    const bearer = await enroll("d", ["-H", `Authorization: Bearer ${tokenA}`]);
    expect(bearer.status).toBe(200);
    expect(await state(a)).toBe("provisioned");
    expect(await state(b)).toBe("registered");
  });

  test("an IDevID as TLS client certificate enrolls its registered device; an unregistered one is refused", async () => {
    const maker = await registeredManufacturer(t.db.database, "Acme");
    const key = testKeyPair("p256");
    const now = clock.now();
    const around = {
      notBefore: new Date(now.getTime() - 86_400_000),
      notAfter: new Date(now.getTime() + 86_400_000 * 365),
    };
    const idevid = testCertificate({ commonName: "SN-IDEVID-1", key, issuer: maker.ca, ...around }).der;
    const stranger = testCertificate({ commonName: "SN-IDEVID-2", key, issuer: maker.ca, ...around }).der;
    const id = await register("SN-IDEVID-1", { manufacturer: "Acme", idevid });
    await writeFile(est.path("idevid.pem"), toPem("CERTIFICATE", idevid));
    await writeFile(est.path("stranger.pem"), toPem("CERTIFICATE", stranger));
    await writeFile(est.path("idevid.key"), key.privateKey.export({ type: "pkcs8", format: "pem" }));
    await est.key("d");
    await est.csr("d", "/CN=SN-IDEVID-1");
    const refused = await enroll("d", ["--cert", est.path("stranger.pem"), "--key", est.path("idevid.key")]);
    expect(refused.status).toBe(401);
    expect(refused.body).toContain("neither a Keyfleet certificate nor the registered IDevID of a device");
    const answer = await enroll("d", ["--cert", est.path("idevid.pem"), "--key", est.path("idevid.key")]);
    expect(answer.status).toBe(200);
    expect((await est.verify(await est.certificatesOf(answer.body))).stdout).toContain("OK");
    expect(await state(id)).toBe("provisioned");
    const [transition] = await leaves("device.transitioned");
    expect(transition!.details.evidence).toEqual([
      { kind: "certificate", ref: expect.stringMatching(/^idevid-sha256:[0-9a-f]{64}$/) },
    ]);
  });

  test("simplereenroll with the issued certificate: confirmed, rotated, committed on the successor's first use", async () => {
    const id = await register("SN-RENEW-1");
    await est.key("first");
    await est.csr("first", "/CN=SN-RENEW-1");
    const first = await est.certificatesOf(
      (await enroll("first", ["-u", `${id}:${await tokenFor(id)}`])).body,
    );
    await writeFile(est.path("first.pem"), first);
    await est.key("second");
    await est.csr("second", "/CN=SN-RENEW-1/serialNumber=SN-RENEW-1");
    const asFirst = ["--cert", est.path("first.pem"), "--key", est.path("first.key")];
    const renewed = await enroll("second", asFirst, "simplereenroll");
    expect(renewed.status).toBe(200);
    const second = await est.certificatesOf(renewed.body);
    expect((await est.verify(second)).stdout).toContain("OK");
    expect(await state(id)).toBe("rotating");
    await writeFile(est.path("second.pem"), second);
    const attrs = await est.curl(url("csrattrs"), [
      "--cert",
      est.path("second.pem"),
      "--key",
      est.path("second.key"),
    ]);
    expect(attrs.status).toBe(200);
    expect(attrs.contentType).toBe("application/csrattrs");
    expect(await state(id)).toBe("active");
    const commands = (await t.app.devices.history(id, systemCaller)).items.map((e) => e.command);
    expect(commands).toEqual(["issue", "confirm", "rotate", "commit"]);
    const stale = await est.curl(url("csrattrs"), asFirst);
    expect(stale.status).toBe(401);
    expect(stale.body).toContain("is revoked");
  });

  test("a re-enrollment that changes the subject, or without a certificate, is refused and issues nothing", async () => {
    const id = await register("SN-RENEW-2");
    await est.key("first");
    await est.csr("first", "/CN=SN-RENEW-2");
    await writeFile(
      est.path("first.pem"),
      await est.certificatesOf((await enroll("first", ["-u", `${id}:${await tokenFor(id)}`])).body),
    );
    const asFirst = ["--cert", est.path("first.pem"), "--key", est.path("first.key")];
    await est.key("other");
    await est.csr("other", "/CN=SOMEONE-ELSE");
    const count = await t.certificateCount();
    const changed = await enroll("other", asFirst, "simplereenroll");
    expect(changed.status).toBe(400);
    expect(changed.body).toContain("a re-enrollment keeps the subject of certificate");
    const tokenOnly = await enroll("other", ["-u", `${id}:${await tokenFor(id)}`], "simplereenroll");
    expect(tokenOnly.status).toBe(401);
    expect(tokenOnly.body).toContain("authenticates with the certificate it renews");
    expect(await t.certificateCount()).toBe(count);
    expect(await state(id)).toBe("active"); // its first use (this request) confirmed it; nothing rotated
  });

  test("a nonce from csrattrs in the CSR's challengePassword is accepted once; its replay is refused and recorded", async () => {
    const id = await register("SN-NONCE-1");
    const token = await tokenFor(id);
    const attrs = await est.curl(url("csrattrs"), ["-u", `${id}:${token}`]);
    const nonce = /[A-Za-z0-9_-]{22}/.exec(Buffer.from(attrs.body, "base64").toString("latin1"))![0];
    await est.key("d");
    await est.csr("d", "/CN=SN-NONCE-1", { challengePassword: nonce });
    expect((await enroll("d", ["-u", `${id}:${token}`])).status).toBe(200);
    const other = await register("SN-NONCE-2");
    const count = await t.certificateCount();
    const replay = await enroll("d", ["-u", `${other}:${await tokenFor(other)}`]);
    expect(replay.status).toBe(400);
    expect(replay.body).toMatch(/the nonce was issued to another device.*\(invalid-nonce\)/);
    expect(await t.certificateCount()).toBe(count);
    expect(await state(other)).toBe("registered");
    expect((await leaves("enrollment.refused")).map((e) => e.details.code)).toEqual(["invalid-nonce"]);
  });

  test("bad requests: not base64, a wrong content type, too big, serverkeygen, a suspended device", async () => {
    const id = await register("SN-BAD-1");
    const token = await tokenFor(id);
    const basic = ["-u", `${id}:${token}`];
    const post = (body: string, type = "application/pkcs10") =>
      est.curl(url("simpleenroll"), ["-H", `Content-Type: ${type}`, "--data-binary", body, ...basic]);
    expect((await post("not base64!")).body).toContain("the body is not base64");
    expect((await post("MIIB")).body).toMatch(/CSR|malformed/i);
    expect((await post("AAAA", "application/json")).status).toBe(415);
    expect((await post("A".repeat(70_000))).status).toBe(413);
    const keygen = await est.curl(url("serverkeygen"), ["-X", "POST"]);
    expect(keygen.status).toBe(501);
    expect(keygen.body).toContain("a device's key is made on the device");
    expect(await t.certificateCount()).toBe(3);
    expect(await state(id)).toBe("registered");
    // A token made before the device was suspended does not bring it back.
    const active = await register("SN-BAD-2");
    const later = await tokenFor(active);
    await est.key("d");
    await est.csr("d", "/CN=SN-BAD-2");
    expect((await enroll("d", ["-u", `${active}:${await tokenFor(active)}`])).status).toBe(200);
    await writeFile(
      est.path("d.pem"),
      await est.certificatesOf((await enroll("d", ["-u", `${active}:${later}`])).body),
    );
    await est.curl(url("csrattrs"), ["--cert", est.path("d.pem"), "--key", est.path("d.key")]); // confirms: active
    await t.app.devices.apply(active, { kind: "suspend" }, systemCaller);
    const suspended = await enroll(
      "d",
      ["--cert", est.path("d.pem"), "--key", est.path("d.key")],
      "simplereenroll",
    );
    expect(suspended.status).toBe(401);
    expect(suspended.body).toContain("on hold");
  });
});
