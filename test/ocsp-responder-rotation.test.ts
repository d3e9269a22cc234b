/**
 * The delegated OCSP responder's life (RFC 6960 §4.2.2.2): the ocsp-responder task gives the issuing
 * CA a key recorded in custody and active with its certificate (id-kp-OCSPSigning, ocsp-nocheck,
 * short-lived, from that CA), keeps it while more than a third of its life is left, replaces it
 * after, and destroys the old key once its certificate has expired. Time moves on a fixed clock.
 */
import { afterAll, beforeAll, expect, test } from "vitest";
import { fixedClock } from "../src/domain/index.js";
import { ensureInitialized } from "../src/first-run.js";
import { toPem } from "../src/pki/index.js";
import { testApp, type TestApp } from "./support/app.js";
import { openssl, workdir, type Workdir } from "./support/openssl.js";

const clock = fixedClock(new Date(Math.floor(Date.now() / 1000) * 1000).toISOString());
const DAY = 86_400;
let t: TestApp;
let dir: Workdir;

const responderKeys = () =>
  t.db.database.db
    .selectFrom("keys")
    .select(["id", "state"])
    .where("purpose", "=", "ocsp-responder")
    .orderBy("created_at")
    .execute();
const responderCertificates = () =>
  t.db.database.db
    .selectFrom("certificates")
    .select(["serial", "der", "not_before", "not_after", "issuer_id"])
    .where("profile", "=", "ocsp-responder")
    .orderBy("seq")
    .execute();

beforeAll(async () => {
  t = await testApp("pglite", { clock });
  await ensureInitialized(t.app, { algorithm: "p256" });
  dir = await workdir();
});
afterAll(async () => {
  await dir?.dispose();
  await t?.dispose();
});

test("made, kept while fresh, renewed at a third of its life left, the old key destroyed after expiry", async () => {
  expect(await t.app.authority.rotateOcspResponder()).toBe(true);
  const [first] = await responderCertificates();
  expect(await responderKeys()).toEqual([expect.objectContaining({ state: "active" })]);
  const issuing = (await t.app.authority.cas()).find((c) => c.kind === "intermediate")!;
  expect(first!.issuer_id).toBe(issuing.id);
  expect((first!.not_after.getTime() - first!.not_before.getTime()) / 1000).toBe(30 * DAY);

  await dir.write("responder.pem", toPem("CERTIFICATE", first!.der));
  await dir.write("chain.pem", (await t.app.authority.chain()).pem);
  const text = (await openssl(["x509", "-in", dir.file("responder.pem"), "-noout", "-text"])).stdout;
  expect(text).toMatch(/Extended Key Usage:\s+OCSP Signing/);
  expect(text).toMatch(/OCSP No Check/);
  const verified = await openssl([
    "verify",
    "-purpose",
    "ocsphelper",
    "-CAfile",
    dir.file("chain.pem"),
    "-attime",
    String(Math.floor(clock.now().getTime() / 1000)),
    dir.file("responder.pem"),
  ]);
  expect(verified.stdout).toMatch(/: OK/);

  clock.advance(19 * DAY); // 11 days left of 30: still fresh
  expect(await t.app.authority.rotateOcspResponder()).toBe(false);
  expect(await responderCertificates()).toHaveLength(1);

  clock.advance(2 * DAY); // 9 days left: due
  expect(await t.app.authority.rotateOcspResponder()).toBe(true);
  expect(await responderCertificates()).toHaveLength(2);
  expect((await responderKeys()).map((k) => k.state)).toEqual(["active", "active"]); // the old one may still sign

  clock.advance(10 * DAY); // the first certificate has expired
  expect(await t.app.authority.rotateOcspResponder()).toBe(false);
  expect((await responderKeys()).map((k) => k.state)).toEqual(["destroyed", "active"]);
});
