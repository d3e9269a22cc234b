/**
 * A device that comes back after its certificate expired (issue 17 item 6): the server refuses the
 * expired certificate with a message that says what to do, and so does the agent before asking; the
 * device renews only by re-authenticating, with its IDevID (remembered from its enrollment) or a new
 * bootstrap token from the operator; a policy's `expiredReturnDays` bounds how long the IDevID alone
 * is enough. The server's clock is moved (a fixedClock); the agent is given the same time.
 */
import { X509Certificate } from "node:crypto";
import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, expect, test } from "vitest";
import { renew } from "../src/agent/index.js";
import { fixedClock } from "../src/domain/index.js";
import type { RunningServers } from "../src/http/index.js";
import { testCertificate, testKeyPair } from "../src/pki/test-certificate.js";
import { toPem } from "../src/pki/index.js";
import { systemCaller } from "../src/policy/index.js";
import type { TestApp } from "./support/app.js";
import { forEachDatabase } from "./support/databases.js";
import type { EstWorkspace } from "./support/est.js";
import { registeredManufacturer } from "./support/idevid.js";
import { agent, enrollmentServer, type EnrollmentServer } from "./support/enrollment-server.js";

const DAY = 86_400;

forEachDatabase("a device back after its certificate expired", (kind) => {
  const clock = fixedClock(new Date().toISOString());
  let t: TestApp;
  let servers: RunningServers;
  let est: EstWorkspace;
  let server: EnrollmentServer;
  beforeAll(async () => {
    server = await enrollmentServer(kind, { clock });
    ({ t, servers, est } = server);
  });
  afterAll(async () => {
    await server?.dispose();
  });

  const state = async (id: string) => (await t.app.devices.get(id, systemCaller)).state;
  const certificateOf = async (dir: string) =>
    new X509Certificate(await readFile(join(dir, "certificate.pem"), "utf8"));
  /** Moves the server's clock `days` past the agent's certificate's notAfter. */
  const pastExpiry = async (dir: string, days: number) => {
    const notAfter = Date.parse((await certificateOf(dir)).validTo);
    clock.advance(Math.ceil((notAfter - clock.now().getTime()) / 1000) + days * DAY);
  };
  const enrolling = (id: string) => [
    "--server",
    servers.httpsUrl,
    "--device",
    id,
    "--ca-bundle",
    est.path("chain.pem"),
  ];

  test("the expired certificate is refused with what to do; a new bootstrap token brings the device back", async () => {
    const id = (await t.app.devices.register({ serialNumber: `SN-BACK-${kind}` }, systemCaller)).id;
    const first = await t.app.bootstrapTokens.create(systemCaller, { deviceId: id });
    const dir = est.path("state-token");
    const enrolled = await agent("enroll", "--state", dir, ...enrolling(id), "--token", first.token);
    expect(enrolled, enrolled.err.join("\n")).toMatchObject({ code: 0, err: [] });
    expect(await state(id)).toBe("active");
    const old = await certificateOf(dir);

    await pastExpiry(dir, 3);
    const count = await t.certificateCount();
    // The agent's own clock still says valid: it asks, and the server says precisely why not.
    const refused = await agent("renew", "--state", dir);
    expect(refused.code).toBe(1);
    expect(refused.err[0]).toMatch(
      new RegExp(
        `^keyfleet-agent: EST /simplereenroll: the server answered 401 "keyfleet: the client certificate \\(serial ${old.serialNumber}\\) expired at \\S+: an expired certificate renews nothing; re-authenticate with the device's IDevID or a new bootstrap token \\(unauthorized\\)" \\(unauthorized\\)$`,
      ),
    );
    // An agent whose clock knows it expired does not even ask.
    await expect(renew(dir, { now: () => clock.now() })).rejects.toMatchObject({
      code: "unauthorized",
      message: expect.stringMatching(/expired at .*: an expired certificate renews nothing; .*--token/),
    });
    expect(await t.certificateCount()).toBe(count);
    expect(await state(id)).toBe("active");

    const again = await t.app.bootstrapTokens.create(systemCaller, { deviceId: id });
    const back = await agent("renew", "--state", dir, "--token", again.token);
    expect(back, back.err.join("\n")).toMatchObject({ code: 0, err: [] });
    const renewed = await certificateOf(dir);
    expect(renewed.serialNumber).not.toBe(old.serialNumber);
    expect(renewed.subject).toBe(old.subject);
    expect(Date.parse(renewed.validTo)).toBeGreaterThan(clock.now().getTime());
    // Never silently: the history says it came back with a bootstrap token, and used its new certificate.
    const history = (await t.app.devices.history(id, systemCaller)).items;
    expect(history.map((e) => e.command)).toEqual(["issue", "confirm", "rotate", "commit"]);
    expect(history[2]!.evidence).toEqual([{ kind: "ticket", ref: `bootstrap-token:${again.id}` }]);
    expect(await state(id)).toBe("active");
  });

  test("with its IDevID it comes back by itself within the policy's grace, and not after it", async () => {
    await t.app.policies.apply(
      systemCaller,
      "keyfleet: policy/v1\nissuance:\n  - rule: fleet\n    validityDays: 20\n    expiredReturnDays: 30\n",
    );
    const maker = await registeredManufacturer(t.db.database, `Back-${kind}`, clock.now());
    const key = testKeyPair("p256");
    const serial = `SN-BACK-IDEVID-${kind}`;
    const idevid = testCertificate({
      commonName: serial,
      key,
      issuer: maker.ca,
      notBefore: new Date(clock.now().getTime() - DAY * 1000),
      notAfter: new Date(clock.now().getTime() + 300 * DAY * 1000),
    }).der;
    await writeFile(est.path("idevid.pem"), toPem("CERTIFICATE", idevid));
    await writeFile(est.path("idevid.key"), key.privateKey.export({ type: "pkcs8", format: "pem" }));
    const id = (
      await t.app.devices.register(
        { serialNumber: serial, manufacturer: `Back-${kind}`, idevid },
        systemCaller,
      )
    ).id;
    const dir = est.path("state-idevid");
    const idevidFlags = ["--idevid-cert", est.path("idevid.pem"), "--idevid-key", est.path("idevid.key")];
    const enrolled = await agent("enroll", "--state", dir, ...enrolling(id), ...idevidFlags);
    expect(enrolled, enrolled.err.join("\n")).toMatchObject({ code: 0, err: [] });
    expect(await state(id)).toBe("active");

    // Ten days after expiry: within the 30 days, the remembered IDevID brings it back.
    await pastExpiry(dir, 10);
    const within = await renew(dir, { now: () => clock.now() });
    expect(within.confirmed).toBe(true);
    expect(await state(id)).toBe("active");
    const history = (await t.app.devices.history(id, systemCaller)).items;
    expect(history.at(-2)!.evidence).toEqual([
      { kind: "certificate", ref: expect.stringMatching(/^idevid-sha256:/) },
    ]);

    // Forty days after the new certificate expired: the IDevID alone is not enough.
    await pastExpiry(dir, 40);
    const count = await t.certificateCount();
    const late = await agent("renew", "--state", dir, ...idevidFlags);
    expect(late.code).toBe(1);
    expect(late.err[0]).toMatch(
      /^keyfleet-agent: EST \/simpleenroll: the server answered 422 "keyfleet: policy version \d+, rule \\"fleet\\": device .*'s certificate \S+ expired at \S+, more than 30 days ago; its IDevID alone no longer brings it back; a bootstrap token from an operator does \(policy-violation\)"/,
    );
    expect(await t.certificateCount()).toBe(count);
    expect(await state(id)).toBe("active");

    const operator = await t.app.bootstrapTokens.create(systemCaller, { deviceId: id });
    const back = await agent("renew", "--state", dir, "--token", operator.token);
    expect(back, back.err.join("\n")).toMatchObject({ code: 0, err: [] });
    expect(await state(id)).toBe("active");
  });
});
