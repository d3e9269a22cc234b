/**
 * Offline devices (issue 17 item 6): the agent fetches its issuer's CRL from the distribution point
 * in its own certificate, verifies it against the CA bundle it keeps and keeps the newest; with it
 * `keyfleet-agent check-peer` decides about a peer while the network is gone. The CRLs are the ones
 * the server publishes on its plain-HTTP listener, reached through a small proxy of the test (the
 * network, which can corrupt them); where no OCSP responder answers (404), the agent carries on.
 * Then its OCSP side against a real responder, `openssl ocsp`: a response for its own certificate,
 * verified and kept, good and then revoked.
 */
import { X509Certificate } from "node:crypto";
import { createServer, type Server } from "node:http";
import { type AddressInfo } from "node:net";
import { mkdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { spawn, type ChildProcess } from "node:child_process";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { main } from "../src/agent/index.js";
import { checkPeer } from "../src/agent/check-peer.js";
import { refreshRevocation } from "../src/agent/revocation-cache.js";
import { ensureInitialized } from "../src/first-run.js";
import { startServers, type RunningServers } from "../src/http/index.js";
import { fromPem, readCertificate, revocationPointers } from "../src/pki/index.js";
import { systemCaller } from "../src/policy/index.js";
import { testApp, type TestApp } from "./support/app.js";
import { forEachDatabase } from "./support/databases.js";
import { estWorkspace, run, type EstWorkspace } from "./support/est.js";

async function agent(...args: string[]): Promise<{ code: number; out: string[]; err: string[] }> {
  const out: string[] = [];
  const err: string[] = [];
  const code = await main(args, { out: (l) => out.push(l), err: (l) => err.push(l) });
  return { code, out, err };
}

async function listening(server: Server): Promise<number> {
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return (server.address() as AddressInfo).port;
}

forEachDatabase("an offline device's CRL and check-peer", (kind) => {
  let t: TestApp;
  let servers: RunningServers;
  let est: EstWorkspace;
  let publisher: Server;
  /** What the distribution point serves instead of a fresh CRL, when a test says so. */
  let tampered: ((der: Buffer) => Buffer) | undefined;
  let n = 0;

  beforeAll(async () => {
    // The network between the device and the plain-HTTP listener, which can corrupt what passes.
    publisher = createServer((req, res) => {
      fetch(`${servers.httpUrl}${req.url ?? "/"}`).then(
        async (answer) => {
          const body = Buffer.from(await answer.arrayBuffer());
          res.writeHead(answer.status).end(tampered && answer.ok ? tampered(body) : body);
        },
        () => res.writeHead(502).end(),
      );
    });
    const port = await listening(publisher);
    t = await testApp(kind, {
      config: { httpsPort: 0, httpPort: 0, publicUrl: `http://127.0.0.1:${port}` },
    });
    await ensureInitialized(t.app, { algorithm: "p256" });
    servers = await startServers(t.app);
    est = await estWorkspace((await t.app.authority.chain()).pem);
    await t.app.crls.publishNow("test");
  });
  afterAll(async () => {
    await servers?.close();
    publisher?.closeAllConnections();
    await new Promise((r) => publisher?.close(r));
    await est?.dispose();
    await t?.dispose();
  });

  async function enrolled(name: string) {
    const id = (await t.app.devices.register({ serialNumber: `SN-OFF-${kind}-${name}` }, systemCaller)).id;
    const { token } = await t.app.bootstrapTokens.create(systemCaller, { deviceId: id });
    const state = est.path(`state-${name}-${++n}`);
    const done = await agent(
      ...["enroll", "--state", state, "--server", servers.httpsUrl, "--device", id, "--token", token],
      ...["--ca-bundle", est.path("chain.pem")],
    );
    expect(done, done.err.join("\n")).toMatchObject({ code: 0, err: [] });
    return { id, state, certificate: join(state, "certificate.pem") };
  }

  test("keeps a verified CRL, and checks peers with it while offline: good, then on hold once refreshed", async () => {
    const device = await enrolled("self");
    const peer = await enrolled("peer");
    const other = await enrolled("other");

    const refreshed = await agent("refresh", "--state", device.state, "--json");
    expect(refreshed, refreshed.err.join("\n")).toMatchObject({ code: 0, err: [] });
    const report = JSON.parse(refreshed.out[0]!) as Record<string, Record<string, string>>;
    expect(report.crl).toMatchObject({ status: "kept", number: expect.stringMatching(/^\d+$/) });
    // Where no responder answers yet, a 404 is reported, not a failure; where one does, its answer is kept.
    if (report.ocsp!.status === "unavailable") expect(report.ocsp!.message).toContain("answered 404");
    else expect(report.ocsp).toMatchObject({ status: "kept", certStatus: "good" });
    const crlFile = await readFile(join(device.state, "crl.der"));
    expect(
      (
        await run("openssl", [
          "crl",
          "-inform",
          "DER",
          "-in",
          join(device.state, "crl.der"),
          "-noout",
          "-issuer",
        ])
      ).code,
    ).toBe(0);

    const serialOf = async (file: string) => new X509Certificate(await readFile(file, "utf8")).serialNumber;
    const good = await agent("check-peer", "--state", device.state, peer.certificate);
    expect(good).toEqual({
      code: 0,
      out: [
        expect.stringMatching(
          new RegExp(
            `^good: .*\\(serial ${await serialOf(peer.certificate)}\\), not on CRL #\\d+ \\(next update \\S+\\)$`,
          ),
        ),
      ],
      err: [],
    });

    await t.app.devices.apply(peer.id, { kind: "suspend" }, systemCaller);
    await t.app.crls.publishNow("test");
    // Offline knowledge is what was kept: until the device refreshes, the peer still looks good.
    expect((await agent("check-peer", "--state", device.state, peer.certificate)).code).toBe(0);
    const again = await agent("refresh", "--state", device.state);
    expect(again.out[0]).toMatch(/^crl: {7}kept #\d+, next update \S+$/);
    expect(await readFile(join(device.state, "crl.der"))).not.toEqual(crlFile);

    // The network is gone now: the kept CRL decides.
    publisher.closeAllConnections();
    const held = await agent("check-peer", "--state", device.state, peer.certificate);
    expect(held.code).toBe(2);
    expect(held.out[0]).toMatch(/^revoked: .* is on hold since \S+ \(certificateHold\), CRL #\d+ /);
    expect((await agent("check-peer", "--state", device.state, other.certificate)).code).toBe(0);

    // Past the kept CRL's nextUpdate it proves nothing.
    const late = await checkPeer(
      device.state,
      await readFile(other.certificate, "utf8"),
      other.certificate,
      new Date(Date.now() + 400 * 86_400_000),
    );
    expect(late).toMatchObject({ verdict: "untrusted" }); // the peer's own certificate has expired by then
    const nextUpdate = JSON.parse((await agent("refresh", "--state", device.state, "--json")).out[0]!).crl
      .nextUpdate as string;
    const stale = await checkPeer(
      device.state,
      await readFile(other.certificate, "utf8"),
      other.certificate,
      new Date(Date.parse(nextUpdate) + 1000),
    );
    expect(stale.line).toMatch(/^unknown: .*: the CRL kept expired at \S+; refresh it while online$/);
  });

  test("a tampered or foreign CRL is not kept; bad peers and bad input are one line each", async () => {
    const device = await enrolled("tamper");
    expect((await agent("refresh", "--state", device.state)).code).toBe(0);
    const kept = await readFile(join(device.state, "crl.der"));

    tampered = (der) => {
      const copy = Buffer.from(der);
      copy[copy.length - 5]! ^= 0x01; // inside the signature
      return copy;
    };
    try {
      const refused = await agent("refresh", "--state", device.state, "--json");
      expect(JSON.parse(refused.out[0]!).crl).toMatchObject({
        status: "unavailable",
        message: expect.stringMatching(/does not verify|malformed/),
      });
      tampered = () => Buffer.from("not a CRL");
      const garbage = await agent("refresh", "--state", device.state, "--json");
      expect(JSON.parse(garbage.out[0]!).crl).toMatchObject({
        status: "unavailable",
        message: expect.stringContaining("(malformed-request)"),
      });
    } finally {
      tampered = undefined;
    }
    expect(await readFile(join(device.state, "crl.der"))).toEqual(kept);

    // A certificate of another CA (openssl's own) is untrusted, whatever the CRL says.
    await run("openssl", [
      "req",
      "-x509",
      "-newkey",
      "ec",
      "-pkeyopt",
      "ec_paramgen_curve:P-256",
      "-nodes",
      "-keyout",
      est.path("stranger.key"),
      "-out",
      est.path("stranger.pem"),
      "-subj",
      "/CN=stranger",
      "-days",
      "2",
    ]);
    const stranger = await agent("check-peer", "--state", device.state, est.path("stranger.pem"));
    expect(stranger.code).toBe(2);
    expect(stranger.out[0]).toMatch(/^untrusted: CN=stranger \(serial [0-9A-F]+\): /);

    await writeFile(est.path("not-pem.txt"), "hello");
    expect(await agent("check-peer", "--state", device.state, est.path("not-pem.txt"))).toEqual({
      code: 1,
      out: [],
      err: [
        expect.stringMatching(
          /^keyfleet-agent: ".*not-pem.txt" is not PEM certificates \(malformed-request\)$/,
        ),
      ],
    });
    expect(await agent("check-peer", "--state", device.state)).toEqual({
      code: 1,
      out: [],
      err: [
        "keyfleet-agent: check-peer needs the peer's certificate: check-peer PEER.pem (malformed-request)",
      ],
    });
    expect((await agent("check-peer", "--state", device.state, est.path("absent.pem"))).err[0]).toMatch(
      /cannot read .*absent.pem.* \(invalid-configuration\)$/,
    );
  });

  test("a peer of another CRL shard is unknown, never good: the CRL kept does not cover it", async () => {
    const device = await enrolled("shard-self"); // before the shards: shard 0, the unsharded CRL
    const issuing = (await t.app.authority.cas()).find((c) => c.kind === "intermediate")!.id;
    await t.app.authority.setCrlShards(issuing, 64, "test");
    await t.app.crls.publishNow("test", issuing);
    t.app.authority.reloadIssuer();
    let peer = await enrolled("shard-peer-0");
    const shardOf = async (file: string) =>
      revocationPointers(readCertificate(fromPem(await readFile(file, "utf8"), "CERTIFICATE")[0]!)).crl.some(
        (url) => /\/crl\/ca-[0-9a-f]+-s\d+\.crl$/.test(url),
      );
    for (let tries = 1; tries < 4 && !(await shardOf(peer.certificate)); tries++) {
      peer = await enrolled(`shard-peer-${tries}`); // 1 in 64 land in shard 0, beside the device
    }
    expect(await shardOf(peer.certificate)).toBe(true);
    expect((await agent("refresh", "--state", device.state)).code).toBe(0);
    const verdict = await agent("check-peer", "--state", device.state, peer.certificate);
    expect(verdict.code).not.toBe(0);
    expect(verdict.out[0]).toMatch(
      /^unknown: .*: the CRL kept covers http:\/\/\S+\/crl\/ca-[0-9a-f]+\.crl, not the peer's CRL http:\/\/\S+\/crl\/ca-[0-9a-f]+-s\d+\.crl$/,
    );
  });
});

describe("the agent's OCSP response, from openssl ocsp", () => {
  let dir: EstWorkspace;
  let responder: ChildProcess | undefined;
  let port: number;
  const state = () => dir.path("state");

  const openssl = async (...args: string[]) => {
    const r = await run("openssl", args);
    if (r.code !== 0) throw new Error(`openssl ${args.join(" ")}: ${r.stderr}`);
    return r.stdout;
  };
  const serve = async () => {
    const child = spawn(
      "openssl",
      [
        ...["ocsp", "-index", dir.path("index.txt"), "-port", String(port), "-nmin", "60", "-ignore_err"],
        ...["-rsigner", dir.path("ca.pem"), "-rkey", dir.path("ca.key"), "-CA", dir.path("ca.pem")],
      ],
      { stdio: ["ignore", "ignore", "pipe"] },
    );
    responder = child;
    // Ready when it says so (a probing connection would hold the one-at-a-time responder).
    await new Promise<void>((resolve, reject) => {
      let said = "";
      child.stderr!.on("data", (chunk: Buffer) => {
        said += chunk.toString();
        if (said.includes("waiting for OCSP client connections")) resolve();
      });
      child.once("exit", () => reject(new Error(`openssl ocsp exited: ${said}`)));
    });
  };
  const stop = async () => {
    if (!responder) return;
    const exited = new Promise((r) => responder!.once("exit", r));
    responder.kill();
    await exited;
    responder = undefined;
  };

  beforeAll(async () => {
    dir = await estWorkspace("");
    const probe = createServer();
    port = await listening(probe);
    await new Promise((r) => probe.close(r));
    await openssl(
      "req",
      "-x509",
      "-newkey",
      "ec",
      "-pkeyopt",
      "ec_paramgen_curve:P-256",
      "-nodes",
      "-keyout",
      dir.path("ca.key"),
      "-out",
      dir.path("ca.pem"),
      "-subj",
      "/CN=OCSP Test CA",
      "-days",
      "30",
      "-addext",
      "basicConstraints=critical,CA:true",
      "-addext",
      "keyUsage=critical,keyCertSign,cRLSign,digitalSignature",
    );
    await dir.key("leaf");
    await openssl(
      "req",
      "-new",
      "-key",
      dir.path("leaf.key"),
      "-subj",
      "/CN=device-ocsp",
      "-out",
      dir.path("leaf.csr"),
    );
    await writeFile(dir.path("leaf.ext"), `authorityInfoAccess = OCSP;URI:http://127.0.0.1:${port}/ocsp\n`);
    await openssl(
      "x509",
      "-req",
      "-in",
      dir.path("leaf.csr"),
      "-CA",
      dir.path("ca.pem"),
      "-CAkey",
      dir.path("ca.key"),
      "-set_serial",
      "0x1F2E3D",
      "-days",
      "10",
      "-extfile",
      dir.path("leaf.ext"),
      "-out",
      dir.path("leaf.pem"),
    );
    await mkdir(state(), { recursive: true, mode: 0o700 });
    const ca = await readFile(dir.path("ca.pem"), "utf8");
    await writeFile(join(state(), "certificate.pem"), (await readFile(dir.path("leaf.pem"), "utf8")) + ca);
    await writeFile(join(state(), "ca-bundle.pem"), ca);
  });
  afterAll(async () => {
    await stop();
    await dir?.dispose();
  });

  const index = async (line: string) => writeFile(dir.path("index.txt"), `${line}\n`);
  const expiry = "351231235959Z";

  test("asks for, verifies and keeps its own OCSP response: good, then revoked", async () => {
    await index(`V\t${expiry}\t\t1F2E3D\tunknown\t/CN=device-ocsp`);
    await serve();
    try {
      const first = await refreshRevocation(state(), { force: true });
      expect(first.ocsp).toMatchObject({ status: "kept", certStatus: "good" });
      expect(first.crl).toMatchObject({
        status: "unavailable",
        message: "the certificate names no CRL distribution point",
      });
      // openssl reads what the agent kept, and verifies it against the CA.
      const read = await run("openssl", [
        "ocsp",
        "-respin",
        join(state(), "ocsp.der"),
        "-CAfile",
        dir.path("ca.pem"),
        "-issuer",
        dir.path("ca.pem"),
        "-cert",
        dir.path("leaf.pem"),
      ]);
      expect(read.stderr).toContain("Response verify OK");
      expect(read.stdout).toMatch(/leaf\.pem: good/);
      // Not due again yet: nothing is asked.
      expect((await refreshRevocation(state())).ocsp).toMatchObject({ status: "fresh", certStatus: "good" });
    } finally {
      await stop();
    }
    await index(`R\t${expiry}\t251201000000Z,keyCompromise\t1F2E3D\tunknown\t/CN=device-ocsp`);
    await serve();
    try {
      const revoked = await refreshRevocation(state(), { force: true });
      expect(revoked.ocsp).toMatchObject({ status: "kept", certStatus: "revoked" });
    } finally {
      await stop();
    }
    // Nobody listening: unavailable, and what was kept stays.
    const offline = await refreshRevocation(state(), { force: true });
    expect(offline.ocsp).toMatchObject({
      status: "unavailable",
      message: expect.stringContaining("(unavailable)"),
    });
    expect((await refreshRevocation(state())).ocsp).toMatchObject({ certStatus: "revoked" });
  });
});
