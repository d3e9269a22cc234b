/**
 * The OCSP responder end to end (issue 17, item 3), on the plain-HTTP listener, with the real
 * `openssl ocsp` client: a device's certificate is good (nonce sent and verified, the delegated
 * responder's certificate checked against our chain), then revoked with certificateHold once the
 * device is suspended, and revoked for keyCompromise after `cert revoke`; the GET form answers the same with RFC 5019 caching headers. Bad inputs
 * (garbage body, garbage base64, oversize, another CA's CertID, a never-issued serial, the wrong
 * content type) get clear answers and change nothing. Repeated requests that a pre-signed
 * response answers take the fast path (http/ocsp-fast-path.ts): the same bytes and headers as
 * the routes give, counted in the metrics, a status change seen at once; a nonce, a miss or a
 * malformed request still goes to the routes. On PGlite and PostgreSQL.
 */
import type { FastifyInstance } from "fastify";
import type { AddressInfo } from "node:net";
import { readFile } from "node:fs/promises";
import { afterAll, beforeAll, expect, test, vi } from "vitest";
import { parseReason } from "../src/domain/index.js";
import { ensureInitialized } from "../src/first-run.js";
import { createMetrics, type Metrics } from "../src/http/metrics.js";
import { buildHttpApp } from "../src/http/server.js";
import {
  certIdFor,
  der,
  readCertificate,
  readOcspResponse,
  writeCsr,
  writeOcspRequest,
  type ReadCertificate,
} from "../src/pki/index.js";
import { oid } from "../src/pki/oids.js";
import { testSigner } from "../src/pki/test-signer.js";
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
  let metrics: Metrics;
  let issuer: ReadCertificate;

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
    issuer = readCertificate(chain.der[0]!);
    metrics = createMetrics();
    http = await buildHttpApp(t.app, "public", {}, metrics);
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

  /** A certificate of its own, so that no other test has its CertID cached. */
  const freshSerial = async () => {
    const csr = await writeCsr(
      { subject: [{ type: "CN", value: "fast path" }] },
      (await testSigner("p256")).signer,
    );
    return (await t.app.authority.issue({ csr, profile: "client" })).serial;
  };
  const requestOf = (serialHex: string) => writeOcspRequest(certIdFor(serialHex, issuer));
  const getUrl = (request: Uint8Array) =>
    `${url}/ocsp/${encodeURIComponent(Buffer.from(request).toString("base64"))}`;
  /** Status, headers (without Date, the one that changes by the second) and body. */
  const whole = async (r: Response) => {
    const headers: Record<string, string> = {};
    r.headers.forEach((v, k) => {
      if (k !== "date") headers[k] = v;
    });
    return { status: r.status, headers, body: Buffer.from(await r.arrayBuffer()) };
  };
  /** A whole answer, and whether the routes (responder.answer) were asked for it. */
  const observed = async (ask: () => Promise<Response>) => {
    const answer = vi.spyOn(t.app.ocsp, "answer");
    try {
      const r = await whole(await ask());
      return { ...r, routed: answer.mock.calls.length > 0 };
    } finally {
      answer.mockRestore();
    }
  };
  /** max-age counts down by the second: the rest of Cache-Control must match. */
  const steady = (headers: Record<string, string>) => ({
    ...headers,
    "cache-control": headers["cache-control"]?.replace(/max-age=\d+/, "max-age=N"),
  });
  const requestsCounted = async (method: string, route: string, status: string) => {
    const histogram = await metrics.requests.get();
    const count = histogram.values.find(
      (v) =>
        v.metricName === "keyfleet_http_request_duration_seconds_count" &&
        v.labels.method === method &&
        v.labels.route === route &&
        v.labels.status === status,
    );
    return count?.value ?? 0;
  };

  test("a repeated POST is answered on the fast path with the routes' bytes and headers, and counted", async () => {
    const leaf = await freshSerial();
    const request = requestOf(leaf);
    const counted = await requestsCounted("POST", "/ocsp", "200");
    const first = await observed(() => post(request));
    const again = await observed(() => post(request));
    expect(first.routed).toBe(true); // nothing cached yet: the routes sign it
    expect(again.routed).toBe(false);
    expect(again.status).toBe(200);
    expect(again.headers).toEqual(first.headers);
    expect(again.headers["cache-control"]).toBe("no-store");
    expect(again.headers["content-type"]).toBe("application/ocsp-response");
    expect(again.body).toEqual(first.body);
    expect(readOcspResponse(again.body, certIdFor(leaf, issuer), issuer, new Date()).status).toBe("good");
    const typed = await observed(() => post(request, "Application/OCSP-Request; q=1"));
    expect(typed.routed).toBe(false);
    expect(typed.body).toEqual(first.body);
    expect(await requestsCounted("POST", "/ocsp", "200")).toBe(counted + 3);
  });

  test("a repeated GET is answered on the fast path with the routes' caching headers, and 304 for its ETag", async () => {
    const request = requestOf(await freshSerial());
    const first = await observed(() => fetch(getUrl(request)));
    const again = await observed(() => fetch(getUrl(request)));
    expect(first.routed).toBe(true);
    expect(again.routed).toBe(false);
    expect(steady(again.headers)).toEqual(steady(first.headers));
    expect(again.headers.etag).toMatch(/^"[\w-]+"$/);
    expect(again.body).toEqual(first.body);
    const counted = await requestsCounted("GET", "/ocsp/*", "304");
    const unchanged = await observed(() =>
      fetch(getUrl(request), { headers: { "if-none-match": again.headers.etag! } }),
    );
    expect(unchanged.routed).toBe(false);
    expect(unchanged.status).toBe(304);
    expect(unchanged.body.length).toBe(0);
    expect(unchanged.headers.etag).toBe(again.headers.etag);
    expect(await requestsCounted("GET", "/ocsp/*", "304")).toBe(counted + 1);
    const other = await observed(() => fetch(getUrl(request), { headers: { "if-none-match": '"other"' } }));
    expect(other.status).toBe(200);
    expect(other.body).toEqual(first.body);
  });

  test("openssl verifies the fast path's answer, and a nonce still gets a response signed for it", async () => {
    const leaf = await freshSerial();
    const asked = () =>
      openssl([
        "ocsp",
        "-issuer",
        dir.file("issuing.pem"),
        "-serial",
        `0x${leaf}`,
        "-url",
        `${url}/ocsp`,
        "-CAfile",
        dir.file("chain.pem"),
        "-no_nonce",
      ]);
    await asked();
    const answer = vi.spyOn(t.app.ocsp, "answer");
    try {
      const { stdout, stderr } = await asked(); // cached by now
      expect(stdout).toMatch(/: good/);
      expect(stderr).toContain("Response verify OK");
      expect(answer).not.toHaveBeenCalled();
      // With a nonce: the routes sign a response that echoes it, and openssl checks it.
      const nonced = await openssl([
        "ocsp",
        "-issuer",
        dir.file("issuing.pem"),
        "-serial",
        `0x${leaf}`,
        "-url",
        `${url}/ocsp`,
        "-CAfile",
        dir.file("chain.pem"),
      ]);
      expect(nonced.stdout).toMatch(/: good/);
      expect(nonced.stderr).toContain("Response verify OK");
      expect(nonced.stderr).not.toMatch(/WARNING|nonce/i);
      expect(answer).toHaveBeenCalledTimes(1);
    } finally {
      answer.mockRestore();
    }
  });

  test("a status change is re-signed and the fast path serves the new answer at once", async () => {
    const leaf = await freshSerial();
    const request = requestOf(leaf);
    const id = certIdFor(leaf, issuer);
    await post(request);
    const good = await observed(() => post(request));
    expect(good.routed).toBe(false);
    expect(readOcspResponse(good.body, id, issuer, new Date()).status).toBe("good");
    await t.app.devices.changeCertificateStatus(
      leaf,
      { action: "revoke", reason: parseReason("keyCompromise") },
      systemCaller,
    );
    await t.app.ocsp.refresh(); // what each process's timer does
    const revoked = await observed(() => post(request));
    expect(revoked.routed).toBe(false);
    expect(readOcspResponse(revoked.body, id, issuer, new Date())).toMatchObject({
      status: "revoked",
      reason: "keyCompromise",
    });
    const viaGet = await observed(() => fetch(getUrl(request)));
    expect(viaGet.routed).toBe(false);
    expect(viaGet.body).toEqual(revoked.body);
  });

  test("what the fast path does not answer goes to the routes: malformed, truncated, chunked, several CertIDs", async () => {
    const leaf = await freshSerial();
    const request = requestOf(leaf);
    await post(request); // cached
    const truncated = await observed(() => post(request.subarray(0, request.length - 1)));
    expect(truncated).toMatchObject({ status: 200, routed: true });
    expect(truncated.body.toString("hex")).toBe(malformedRequest);
    const garbage = await observed(() => fetch(getUrl(new Uint8Array([0x30, 0x03, 0x02, 0x01, 0x00]))));
    expect(garbage).toMatchObject({ status: 200, routed: true });
    expect(garbage.body.toString("hex")).toBe(malformedRequest);
    const empty = await observed(() => post(new Uint8Array(0)));
    expect(empty).toMatchObject({ status: 200, routed: true });
    expect(empty.body.toString("hex")).toBe(malformedRequest);
    // A chunked body has no Content-Length: Fastify reads it, with the same answer.
    const chunked = await observed(() =>
      fetch(`${url}/ocsp`, {
        method: "POST",
        headers: { "content-type": "application/ocsp-request" },
        body: new ReadableStream({
          start(c) {
            c.enqueue(request);
            c.close();
          },
        }),
        duplex: "half",
      } as RequestInit),
    );
    expect(chunked.routed).toBe(true);
    expect(chunked.body).toEqual((await whole(await post(request))).body);
    // Two CertIDs: one response signed for both.
    const cert = (s: string) =>
      der.sequence(der.sequence(der.sequence(der.oid(oid.sha1), der.derNull), ...certIdParts(s)));
    const two = der.sequence(der.sequence(der.sequence(cert(leaf), cert(serial))));
    const both = await observed(() => post(two));
    expect(both).toMatchObject({ status: 200, routed: true });
    expect(both.body.toString("hex")).not.toBe(malformedRequest);
  });

  /** A SHA-1 CertID's fields after its hash algorithm, for a serial of our issuing CA. */
  const certIdParts = (serialHex: string) => {
    const id = certIdFor(serialHex, issuer);
    return [der.octetString(id.issuerNameHash), der.octetString(id.issuerKeyHash), der.integer(id.serial)];
  };
});
