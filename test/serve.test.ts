/**
 * `keyfleet serve`'s listeners (issue 12): the HTTPS certificate is reused across starts and renewed
 * in the running server when it nears expiry; a port in use is one clear error.
 */
import { createServer, type Server } from "node:net";
import { connect } from "node:tls";
import { afterEach, beforeEach, expect, test, vi } from "vitest";
import type { App } from "../src/app.js";
import { fixedClock } from "../src/domain/index.js";
import { ensureInitialized } from "../src/first-run.js";
import { startServers, type RunningServers } from "../src/http/index.js";
import { forEachDatabase } from "./support/databases.js";
import { testApp, type TestApp } from "./support/app.js";

const DAY = 86_400;

/** The serial of the certificate a TLS handshake with `url` presents (verified against `ca` if given). */
function servedSerial(url: string, ca?: string): Promise<string> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = connect(
      { host: hostname, port: Number(port), ...(ca ? { ca } : { rejectUnauthorized: false }) },
      () => {
        resolve(socket.getPeerCertificate().serialNumber);
        socket.end();
      },
    );
    socket.on("error", reject);
  });
}

const occupy = (port = 0): Promise<Server> =>
  new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(port, "127.0.0.1", () => resolve(server));
  });
const portOf = (s: Server) => (s.address() as { port: number }).port;
const release = (s: Server) => new Promise<void>((resolve) => s.close(() => resolve()));

forEachDatabase("serve", (kind) => {
  let t: TestApp;
  let clock: ReturnType<typeof fixedClock>;
  let servers: RunningServers | undefined;
  const tlsServerCertificates = async () =>
    (
      await t.app.database.db
        .selectFrom("certificates")
        .select("serial")
        .where("profile", "=", "tls-server")
        .execute()
    ).map((r) => r.serial);
  const start = async (app: App = t.app) => (servers = await startServers(app));
  const stop = async () => {
    await servers?.close();
    servers = undefined;
  };

  beforeEach(async () => {
    clock = fixedClock(new Date().toISOString());
    t = await testApp(kind, { clock, config: { httpsPort: 0, httpPort: 0 } });
    await ensureInitialized(t.app, { algorithm: "p256" });
  });
  afterEach(async () => {
    vi.useRealTimers();
    await stop();
    await t.dispose();
  });

  test("two starts in a row serve one certificate, and record no second one", async () => {
    const first = await start();
    const chain = (await t.app.authority.chain()).pem;
    const serial = await servedSerial(first.httpsUrl, chain); // a TLS client that trusts our root accepts it
    const count = await t.certificateCount();
    await stop();
    clock.advance(DAY);
    const second = await start();
    expect(await servedSerial(second.httpsUrl, chain)).toBe(serial);
    expect(await t.certificateCount()).toBe(count);
    expect(await tlsServerCertificates()).toEqual([serial]);
  });

  test("a start after two thirds of the certificate's lifetime serves a new one", async () => {
    const first = await servedSerial((await start()).httpsUrl);
    await stop();
    clock.advance(60 * DAY + 1);
    const second = await servedSerial((await start()).httpsUrl);
    expect(second).not.toBe(first);
    expect((await tlsServerCertificates()).sort()).toEqual([first, second].sort());
  });

  test("renewTlsIfDue swaps a new certificate into the running server when due, without a restart", async () => {
    const running = await start();
    const first = await servedSerial(running.httpsUrl);
    expect(await running.renewTlsIfDue()).toBe(false);
    expect(await servedSerial(running.httpsUrl)).toBe(first);
    clock.advance(60 * DAY + 1);
    expect(await running.renewTlsIfDue()).toBe(true);
    const second = await servedSerial(running.httpsUrl); // same listener, same port
    expect(second).not.toBe(first);
    expect(await t.app.authority.certificate(second)).toMatchObject({
      profile: "tls-server",
      status: "good",
    });
    expect(await running.renewTlsIfDue()).toBe(false);
    expect(t.logs()).toContain("server TLS certificate renewed");
    expect(t.logs()).not.toContain("PRIVATE KEY");
  });

  test("the periodic check is a timer that renews when due and is stopped at close", async () => {
    vi.useFakeTimers({ toFake: ["setInterval", "clearInterval"] });
    const timers = vi.getTimerCount();
    const running = await start();
    expect(vi.getTimerCount()).toBe(timers + 1);
    const first = await servedSerial(running.httpsUrl);
    clock.advance(60 * DAY + 1);
    vi.advanceTimersByTime(60 * 60 * 1000); // the hourly check
    await vi.waitFor(async () => expect(await servedSerial(running.httpsUrl)).not.toBe(first), {
      timeout: 10_000,
    });
    await stop();
    expect(vi.getTimerCount()).toBe(timers);
  });

  test("an HTTPS port in use is one clear error (unavailable) naming host, port and what to do", async () => {
    const taken = await occupy();
    try {
      const port = portOf(taken);
      await expect(start({ ...t.app, config: { ...t.app.config, httpsPort: port } })).rejects.toMatchObject({
        code: "unavailable",
        message: `port ${port} on 127.0.0.1 is in use (another keyfleet serve?): stop it, or choose another with --https-port`,
      });
    } finally {
      await release(taken);
    }
  });

  test("an HTTP port in use is refused too, after closing the HTTPS listener it had opened", async () => {
    const free = await occupy();
    const httpsPort = portOf(free);
    await release(free);
    const taken = await occupy();
    try {
      const port = portOf(taken);
      await expect(
        start({ ...t.app, config: { ...t.app.config, httpsPort, httpPort: port } }),
      ).rejects.toMatchObject({
        code: "unavailable",
        message: `port ${port} on 127.0.0.1 is in use (another keyfleet serve?): stop it, or choose another with --http-port`,
      });
      await release(await occupy(httpsPort)); // the HTTPS port is free again
    } finally {
      await release(taken);
    }
  });
});
