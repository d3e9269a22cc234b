/**
 * The OCSP responder end to end (issue 17, item 3), on the plain-HTTP listener, with the real
 * `openssl ocsp` client: a device's certificate is good (nonce sent and verified, the delegated
 * responder's certificate checked against our chain), then revoked with certificateHold once the
 * device is suspended, and revoked for keyCompromise after `cert revoke`; the GET form answers the same with RFC 5019 caching headers. Bad inputs
 * (garbage body, garbage base64, oversize, another CA's CertID, a never-issued serial, the wrong
 * content type) get clear answers and change nothing. On PGlite and PostgreSQL.
 */
import type { FastifyInstance } from "fastify";
import type { AddressInfo } from "node:net";
import { readFile } from "node:fs/promises";
import { afterAll, beforeAll, expect, test } from "vitest";
import { parseReason } from "../src/domain/index.js";
import { ensureInitialized } from "../src/first-run.js";
import { buildHttpApp } from "../src/http/server.js";
import { systemCaller } from "../src/policy/index.js";
import { testApp, type TestApp } from "./support/app.js";
import { forEachDatabase } from "./support/databases.js";
import { openssl, opensslCsr, opensslSelfSigned, workdir, type Workdir } from "./support/openssl.js";

const malformedRequest = "30030a0101";
const unauthorized = "30030a0106";

forEachDatabase("OCSP responder", (kind) => {
  let t: TestApp;
  let dir: Workdir;
  let http: FastifyInstance;
  let url: string;
  let device: { id: string };
  let serial: string;

  /** `openssl ocsp` against our URL: its summary line and its verdict on the response. */
  const ask = async (leaf: string, ...flags: string[]) => {
    const { stdout, stderr } = await openssl([
      "ocsp",
      "-issuer",
      dir.file("issuing.pem"),
      "-cert",
      dir.file(leaf),
      "-url",
      `${url}/ocsp`,
      "-CAfile",
      dir.file("chain.pem"),
      ...flags,
    ]);
    return { stdout, stderr };
  };
  const post = (body: Uint8Array | string, type = "application/ocsp-request") =>
    fetch(`${url}/ocsp`, {
      method: "POST",
      headers: { "content-type": type },
      body: typeof body === "string" ? body : new Uint8Array(body),
    });
  const hexOf = async (r: Response) => Buffer.from(await r.arrayBuffer()).toString("hex");

  beforeAll(async () => {
    t = await testApp(kind);
    await ensureInitialized(t.app, { algorithm: "p256" });
    await t.app.tasks.runNow("ocsp-responder"); // the delegated responder, as a server's first tick makes it
    dir = await workdir();
    const chain = await t.app.authority.chain();
    await dir.write("chain.pem", chain.pem);
    await dir.write("issuing.pem", chain.pem.slice(0, chain.pem.indexOf("-----END CERTIFICATE-----") + 26));
    device = await t.app.devices.register({ serialNumber: "SN-OCSP-1" }, systemCaller);
    const csr = await opensslCsr(dir, "p256", "/CN=SN-OCSP-1");
    const issued = await t.app.devices.issue({ csr, deviceId: device.id }, systemCaller);
    await t.app.devices.apply(device.id, { kind: "confirm" }, systemCaller, {
      evidence: [{ kind: "proof-of-possession", ref: "test" }],
    });
    await dir.write("leaf.pem", issued.pem);
    serial = issued.serial;
    http = await buildHttpApp(t.app, "public");
    await http.listen({ host: "127.0.0.1", port: 0 });
    url = `http://127.0.0.1:${(http.server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    await http?.close();
    await dir?.dispose();
    await t?.dispose();
  });

  test("openssl ocsp: good with the nonce verified, signed by the delegated responder", async () => {
    const { stdout, stderr } = await ask("leaf.pem", "-resp_text");
    expect(stdout).toContain(`${dir.file("leaf.pem")}: good`);
    expect(stderr).toContain("Response verify OK");
    expect(stderr).not.toMatch(/WARNING|nonce/i); // openssl warns when the nonce is missing
    expect(stdout).toMatch(/Response Extensions:\s+OCSP Nonce:/);
    expect(stdout).toMatch(/OCSP Signing/); // the responder certificate travels with the response
    expect(stdout).toMatch(/OCSP No Check/);
  });

  test("revoked with certificateHold once the device is suspended, good again once resumed", async () => {
    await t.app.devices.apply(device.id, { kind: "suspend" }, systemCaller);
    await t.app.ocsp.refresh(); // what each process's timer does
    const held = await ask("leaf.pem");
    expect(held.stdout).toContain(`${dir.file("leaf.pem")}: revoked`);
    expect(held.stdout).toMatch(/Reason: certificateHold/);
    expect(held.stderr).toContain("Response verify OK");
    await t.app.devices.apply(device.id, { kind: "resume" }, systemCaller, {
      evidence: [{ kind: "proof-of-possession", ref: "test" }],
    });
    await t.app.ocsp.refresh();
    expect((await ask("leaf.pem")).stdout).toContain(`${dir.file("leaf.pem")}: good`);
  });

  test("GET /ocsp/{base64}: the pre-signed response with RFC 5019 caching headers, and 304 for its ETag", async () => {
    await openssl([
      "ocsp",
      "-issuer",
      dir.file("issuing.pem"),
      "-cert",
      dir.file("leaf.pem"),
      "-no_nonce",
      "-reqout",
      dir.file("get.req"),
    ]);
    const base64 = (await readFile(dir.file("get.req"))).toString("base64");
    const r = await fetch(`${url}/ocsp/${encodeURIComponent(base64)}`);
    expect(r.status).toBe(200);
    expect(r.headers.get("content-type")).toBe("application/ocsp-response");
    expect(r.headers.get("cache-control")).toMatch(/^max-age=\d+, public, no-transform, must-revalidate$/);
    expect(Number(/max-age=(\d+)/.exec(r.headers.get("cache-control")!)![1])).toBeGreaterThan(0);
    const etag = r.headers.get("etag")!;
    expect(etag).toMatch(/^"[\w-]+"$/);
    expect(new Date(r.headers.get("expires")!).getTime()).toBeGreaterThan(
      new Date(r.headers.get("last-modified")!).getTime(),
    );
    await dir.write("get.resp", Buffer.from(await r.arrayBuffer()));
    const { stdout, stderr } = await openssl([
      "ocsp",
      "-respin",
      dir.file("get.resp"),
      "-issuer",
      dir.file("issuing.pem"),
      "-cert",
      dir.file("leaf.pem"),
      "-CAfile",
      dir.file("chain.pem"),
      "-no_nonce",
    ]);
    expect(stdout).toContain(": good");
    expect(stderr).toContain("Response verify OK");
    // base64url without padding is the same request
    const same = await fetch(
      `${url}/ocsp/${base64.replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "")}`,
    );
    expect(Buffer.from(await same.arrayBuffer())).toEqual(await readFile(dir.file("get.resp")));
    const unchanged = await fetch(`${url}/ocsp/${encodeURIComponent(base64)}`, {
      headers: { "if-none-match": etag },
    });
    expect(unchanged.status).toBe(304);
  });

  test("a serial the CA never issued is unknown, never good", async () => {
    const { stdout, stderr } = await openssl([
      "ocsp",
      "-issuer",
      dir.file("issuing.pem"),
      "-serial",
      "0x5EED0CAFE0000000000000000000001",
      "-url",
      `${url}/ocsp`,
      "-CAfile",
      dir.file("chain.pem"),
    ]);
    expect(stdout).toMatch(/: unknown/);
    expect(stderr).toContain("Response verify OK");
  });

  test("refuses what is not a good request, clearly, and changes nothing", async () => {
    const before = await t.certificateCount();
    expect(await hexOf(await post("this is not DER"))).toBe(malformedRequest);
    expect(await hexOf(await post(new Uint8Array(10 * 1024).fill(0x30)))).toBe(malformedRequest);
    const garbage = await fetch(`${url}/ocsp/${encodeURIComponent("**not base64**")}`);
    expect(garbage.status).toBe(200);
    expect(await hexOf(garbage)).toBe(malformedRequest);
    expect(await hexOf(await fetch(`${url}/ocsp/AAAA`))).toBe(malformedRequest);

    // Another CA's certificate: its CertID names an issuer we do not have.
    await opensslSelfSigned(dir, "other-ca", "/CN=Some Other CA");
    await openssl([
      "ocsp",
      "-issuer",
      dir.file("other-ca.pem"),
      "-serial",
      "0x01",
      "-reqout",
      dir.file("other.req"),
    ]);
    expect(await hexOf(await post(await readFile(dir.file("other.req"))))).toBe(unauthorized);

    const wrongType = await post(await readFile(dir.file("other.req")), "application/json");
    expect(wrongType.status).toBe(415);
    expect(wrongType.headers.get("content-type")).toMatch(/^application\/problem\+json/);
    expect(((await wrongType.json()) as { detail: string }).detail).toMatch(/application\/ocsp-request/);
    expect(await t.certificateCount()).toBe(before);
  });

  test("revoked for keyCompromise, with its time, once `cert revoke` has revoked it", async () => {
    await t.app.devices.changeCertificateStatus(
      serial,
      { action: "revoke", reason: parseReason("keyCompromise") },
      systemCaller,
    );
    await t.app.ocsp.refresh();
    const { stdout, stderr } = await ask("leaf.pem");
    expect(stdout).toContain(`${dir.file("leaf.pem")}: revoked`);
    expect(stdout).toMatch(/Reason: keyCompromise/);
    expect(stdout).toMatch(/Revocation Time: /);
    expect(stderr).toContain("Response verify OK");
  });
});
