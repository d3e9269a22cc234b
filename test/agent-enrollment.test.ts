/**
 * The device agent against the real server (issue 16): `keyfleet-agent enroll` with its key made
 * inside a SoftHSM2 token and a bootstrap token, then `renew` through the native API with a
 * signature made in the token; a file-key agent renews over EST with TLS client authentication.
 * The device walks registered → provisioned → active → rotating, and no private key reaches the
 * server: the database, the server's log and the answers hold none.
 */
import { createHash } from "node:crypto";
import { readFile, readdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, expect, test } from "vitest";
import { openPkcs11KeyStore } from "../src/crypto/index.js";
import { toPem } from "../src/pki/index.js";
import type { RunningServers } from "../src/http/index.js";
import { systemCaller } from "../src/policy/index.js";
import type { TestApp } from "./support/app.js";
import { forEachDatabase } from "./support/databases.js";
import { run, type EstWorkspace } from "./support/est.js";
import { registeredManufacturer } from "./support/idevid.js";
import { softHsmToken, type SoftHsmToken } from "./support/softhsm.js";
import { agent, enrollmentServer, type EnrollmentServer } from "./support/enrollment-server.js";

/** Every table's rows as text, for a scan for key material. */
async function databaseText(t: TestApp): Promise<string> {
  const tables = [
    "devices",
    "certificates",
    "audit_leaves",
    "outbox",
    "lifecycle_events",
    "bootstrap_tokens",
    "enrollment_nonces",
  ];
  const rows = await Promise.all(
    tables.map((name) =>
      t.db.database.db
        .selectFrom(name as never)
        .selectAll()
        .execute(),
    ),
  );
  return JSON.stringify(rows, (_k, v: unknown) =>
    v instanceof Uint8Array ? Buffer.from(v).toString("base64") : v,
  );
}

forEachDatabase("keyfleet-agent against the server", (kind) => {
  let t: TestApp;
  let servers: RunningServers;
  let est: EstWorkspace;
  let token: SoftHsmToken;
  let server: EnrollmentServer;
  beforeAll(async () => {
    server = await enrollmentServer(kind);
    ({ t, servers, est } = server);
    token = await softHsmToken();
    await writeFile(est.path("pin"), `${token.pin}\n`);
  });
  afterAll(async () => {
    await token?.dispose();
    await server?.dispose();
  });

  const state = async (id: string) => (await t.app.devices.get(id, systemCaller)).state;
  /** The agent's key store: the test's SoftHSM2 token. */
  const hsmFlags = () => [
    "--key-store",
    "pkcs11",
    "--pkcs11-module",
    token.module,
    "--pkcs11-token",
    token.token,
    "--pkcs11-pin-file",
    est.path("pin"),
  ];

  test("enrolls with its key inside SoftHSM2 and renews through the native API; no private key reaches the server", async () => {
    const id = (await t.app.devices.register({ serialNumber: "SN-AGENT-HSM" }, systemCaller)).id;
    const { token: bootstrap } = await t.app.bootstrapTokens.create(systemCaller, { deviceId: id });
    const dir = est.path("state-hsm");
    const enrolled = await agent(
      "enroll",
      "--state",
      dir,
      "--server",
      servers.httpsUrl,
      "--device",
      id,
      "--token",
      bootstrap,
      "--ca-bundle",
      est.path("chain.pem"),
      ...hsmFlags(),
    );
    expect(enrolled, enrolled.err.join("\n")).toMatchObject({ code: 0, err: [] });
    // The token's key cannot show itself in a TLS handshake from node: a status check it signed did.
    expect(enrolled.out).toContain("confirmed: yes, in use");
    expect(await state(id)).toBe("active");
    expect(await readdir(dir)).not.toContain("keys"); // nothing of the key on disk
    const first = await readFile(join(dir, "certificate.pem"), "utf8");
    expect((await est.verify(first)).stdout).toContain("OK");

    // The key cannot be read out of the token: pkcs11-tool, reading it on its own, says so.
    const listed = await run("pkcs11-tool", [
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
    ]);
    expect(listed.stdout).toMatch(/Access:\s+sensitive, always sensitive, never extractable/);

    const renewed = await agent("renew", "--state", dir);
    expect(renewed, renewed.err.join("\n")).toMatchObject({ code: 0, err: [] });
    const second = await readFile(join(dir, "certificate.pem"), "utf8");
    expect(second).not.toBe(first);
    expect((await est.verify(second)).stdout).toContain("OK");
    // Each certificate was confirmed by a status check signed in the token: the renewal committed.
    expect(renewed.out).toContain("confirmed: yes, in use");
    expect((await t.app.devices.history(id, systemCaller)).items.map((e) => e.command)).toEqual([
      "issue",
      "confirm",
      "rotate",
      "commit",
    ]);
    expect(await state(id)).toBe("active");

    const text = (await databaseText(t)) + t.logs() + enrolled.out.join("\n") + renewed.out.join("\n");
    expect(text).not.toMatch(/PRIVATE KEY/);
    expect(text).not.toContain(bootstrap); // the bootstrap token's secret is kept nowhere either
  });

  test("an IDevID whose key is in the token enrolls through the native API, signing the server's nonce there", async () => {
    // The manufacturer put the IDevID key in the secure element and certified it.
    const maker = await registeredManufacturer(t.db.database, `Acme-${kind}`);
    const element = await openPkcs11KeyStore({ module: token.module, token: token.token, pin: token.pin });
    const idevidKey = await element.generate({
      algorithm: "p256",
      label: "idevid",
      purpose: "device",
      store: "pkcs11",
      extractable: false,
    });
    element.close();
    const idevid = maker.idevidFor("SN-AGENT-IDEVID", idevidKey.publicKey);
    await writeFile(est.path("idevid.pem"), toPem("CERTIFICATE", idevid));
    const id = (
      await t.app.devices.register(
        { serialNumber: "SN-AGENT-IDEVID", manufacturer: `Acme-${kind}`, idevid },
        systemCaller,
      )
    ).id;
    const common = [
      "--server",
      servers.httpsUrl,
      "--device",
      id,
      "--ca-bundle",
      est.path("chain.pem"),
      ...hsmFlags(),
    ];
    const enroll = (state: string, ...credential: string[]) =>
      agent(
        "enroll",
        "--state",
        est.path(state),
        ...common,
        "--idevid-cert",
        est.path("idevid.pem"),
        ...credential,
      );

    // A URI naming another token, or no key there, is refused, and nothing is issued.
    const elsewhere = await enroll("state-idevid-x", "--idevid-key", "pkcs11:token=other;object=idevid");
    expect(elsewhere.err).toEqual([
      `keyfleet-agent: "pkcs11:token=other;object=idevid" names the token "other", but the agent's token is "${token.token}" (invalid-configuration)`,
    ]);
    const absent = await enroll(
      "state-idevid-y",
      "--idevid-key",
      `pkcs11:token=${token.token};object=nothing`,
    );
    expect(absent.code).toBe(1);
    expect(absent.err.join("\n")).toMatch(/no private key .*nothing.* \(key-not-found\)$/);
    expect(await state(id)).toBe("registered");

    const enrolled = await enroll(
      "state-idevid",
      "--idevid-key",
      `pkcs11:token=${token.token};object=idevid`,
    );
    expect(enrolled, enrolled.err.join("\n")).toMatchObject({ code: 0, err: [] });
    expect(enrolled.out).toContain("confirmed: yes, in use");
    expect(await state(id)).toBe("active");
    expect(
      (await est.verify(await readFile(est.path("state-idevid/certificate.pem"), "utf8"))).stdout,
    ).toContain("OK");
    const [issue] = (await t.app.devices.history(id, systemCaller)).items;
    expect(issue).toMatchObject({ command: "issue" });
    // The credential it proved is the registered IDevID, by the hash of its certificate.
    expect(issue!.evidence).toEqual([
      { kind: "certificate", ref: `idevid-sha256:${createHash("sha256").update(idevid).digest("hex")}` },
    ]);
  });

  test("a file-key agent enrolls with a bootstrap token and renews over EST with its certificate", async () => {
    const id = (await t.app.devices.register({ serialNumber: "SN-AGENT-FILE" }, systemCaller)).id;
    const { token: bootstrap } = await t.app.bootstrapTokens.create(systemCaller, { deviceId: id });
    const dir = est.path("state-file");
    const enrolled = await agent(
      "enroll",
      "--state",
      dir,
      "--server",
      servers.httpsUrl,
      "--device",
      id,
      "--token",
      bootstrap,
      "--ca-bundle",
      est.path("chain.pem"),
    );
    expect(enrolled, enrolled.err.join("\n")).toMatchObject({ code: 0, err: [] });
    // The agent uses its new certificate at once (EST /csrattrs with it), which confirms it.
    expect(enrolled.out).toContain("confirmed: yes, in use");
    expect(await state(id)).toBe("active");
    const renewed = await agent("renew", "--state", dir);
    expect(renewed, renewed.err.join("\n")).toMatchObject({ code: 0, err: [] });
    expect(renewed.out).toContain("confirmed: yes, in use");
    // The successor's first use committed the rotation: active again, the predecessor superseded.
    expect(await state(id)).toBe("active");
    expect((await t.app.devices.history(id, systemCaller)).items.map((e) => e.command)).toEqual([
      "issue",
      "confirm",
      "rotate",
      "commit",
    ]);
    const status = await agent("status", "--state", dir, "--json");
    expect(status.code).toBe(0);
    expect(JSON.parse(status.out.join("\n"))).toMatchObject({
      subject: expect.stringContaining("SN-AGENT-FILE"),
    });
    // A second enrollment with the spent token is refused and changes nothing.
    const again = await agent(
      "enroll",
      "--state",
      est.path("state-again"),
      "--server",
      servers.httpsUrl,
      "--device",
      id,
      "--token",
      bootstrap,
      "--ca-bundle",
      est.path("chain.pem"),
    );
    expect(again.code).toBe(1);
    expect(again.err.join("\n")).toMatch(
      /^keyfleet-agent: .*bootstrap token was used already.*\(unauthorized\)$/,
    );
    expect(await state(id)).toBe("active");
  });
});
