/**
 * Revocation status outlives the database (DESIGN §1.4, issue 17): the PostgreSQL database is
 * really taken away under a running server (new connections refused, open ones terminated). The
 * OCSP responder keeps answering from its pre-signed cache, with valid signatures and fresh
 * nonces; a certificate it never answered for gets tryLater; /readyz says degraded (200 on the
 * plain-HTTP listener, 503 on HTTPS). When the database returns, a new revocation shows up.
 */
import type { FastifyInstance } from "fastify";
import type { AddressInfo } from "node:net";
import { readFile } from "node:fs/promises";
import { afterAll, beforeAll, expect, test } from "vitest";
import { ensureInitialized } from "../src/first-run.js";
import { buildHttpApp } from "../src/http/server.js";
import { systemCaller } from "../src/policy/index.js";
import { testApp, type TestApp } from "./support/app.js";
import { postgresScratchDatabase } from "./support/databases.js";
import { openssl, opensslCsr, workdir, type Workdir } from "./support/openssl.js";

let db: Awaited<ReturnType<typeof postgresScratchDatabase>>;
let t: TestApp;
let dir: Workdir;
let publicHttp: FastifyInstance;
let fullHttp: FastifyInstance;
let url: string;
const devices: Record<"cached" | "uncached", string> = {} as never;

async function ask(leaf: string): Promise<string> {
  const args = ["ocsp", "-issuer", dir.file("issuing.pem"), "-cert", dir.file(`${leaf}.pem`)];
  try {
    const { stdout, stderr } = await openssl([
      ...args,
      "-url",
      `${url}/ocsp`,
      "-CAfile",
      dir.file("chain.pem"),
    ]);
    return `${stdout}${stderr}`;
  } catch (e) {
    const { stdout, stderr } = e as { stdout?: string; stderr?: string };
    return `failed: ${String(stdout)}${String(stderr)}`;
  }
}

const get = async (file: string): Promise<Buffer> =>
  Buffer.from(
    await (
      await fetch(`${url}/ocsp/${encodeURIComponent((await readFile(dir.file(file))).toString("base64"))}`)
    ).arrayBuffer(),
  );

beforeAll(async () => {
  db = await postgresScratchDatabase();
  t = await testApp("postgres", { db });
  await ensureInitialized(t.app, { algorithm: "p256" });
  await t.app.tasks.runNow("ocsp-responder");
  dir = await workdir();
  const chain = await t.app.authority.chain();
  await dir.write("chain.pem", chain.pem);
  await dir.write("issuing.pem", chain.pem.slice(0, chain.pem.indexOf("-----END CERTIFICATE-----") + 26));
  for (const name of ["cached", "uncached"] as const) {
    const { id } = await t.app.devices.register({ serialNumber: `SN-DOWN-${name}` }, systemCaller);
    const csr = await opensslCsr(dir, "p256", `/CN=SN-DOWN-${name}`);
    const issued = await t.app.devices.issue({ csr, deviceId: id }, systemCaller);
    await t.app.devices.apply(id, { kind: "confirm" }, systemCaller, {
      evidence: [{ kind: "proof-of-possession", ref: "test" }],
    });
    await dir.write(`${name}.pem`, issued.pem);
    devices[name] = id;
  }
  publicHttp = await buildHttpApp(t.app, "public");
  await publicHttp.listen({ host: "127.0.0.1", port: 0 });
  url = `http://127.0.0.1:${(publicHttp.server.address() as AddressInfo).port}`;
  fullHttp = await buildHttpApp(t.app, "full");
  await openssl([
    "ocsp",
    "-issuer",
    dir.file("issuing.pem"),
    "-cert",
    dir.file("cached.pem"),
    "-no_nonce",
    "-reqout",
    dir.file("cached.req"),
  ]);
});

afterAll(async () => {
  await publicHttp?.close();
  await fullHttp?.close();
  await dir?.dispose();
  await t?.dispose(); // drops the scratch database too
});

test("answers from cache while the database is gone, says degraded, and sees revocations once it is back", async () => {
  expect(await ask("cached")).toMatch(/cached\.pem: good[\s\S]*Response verify OK/);
  const before = await get("cached.req");
  expect((await publicHttp.inject("/readyz")).json()).toMatchObject({ status: "ready" });

  await db.refuse();
  await expect(t.app.database.ping()).rejects.toThrow();

  // Cached: the same pre-signed bytes by GET, and a response signed for openssl's fresh nonce.
  expect(await get("cached.req")).toEqual(before);
  const answer = await ask("cached");
  expect(answer).toMatch(/cached\.pem: good/);
  expect(answer).toContain("Response verify OK");
  expect(answer).not.toMatch(/WARNING/);
  // Never answered before: nothing to serve without the database.
  expect(await ask("uncached")).toMatch(/trylater/i);
  // A refresh cannot re-sign without the database, and leaves the cache as it was.
  await expect(t.app.ocsp.refresh()).rejects.toThrow();
  expect(await get("cached.req")).toEqual(before);

  const ready = await publicHttp.inject("/readyz");
  expect(ready.statusCode).toBe(200);
  const body = ready.json() as { status: string; checks: Record<string, string> };
  expect(body.status).toBe("degraded");
  expect(body.checks.database).not.toBe("ok");
  expect(body.checks.ocsp).toMatch(
    /^answering from 1 pre-signed responses, the first of which expires at \d{4}-/,
  );
  const fullReady = await fullHttp.inject("/readyz");
  expect(fullReady.statusCode).toBe(503);
  expect(fullReady.json()).toMatchObject({ status: "degraded" });

  await db.allow();
  await t.app.devices.apply(devices.cached, { kind: "suspend" }, systemCaller);
  await t.app.ocsp.refresh();
  expect(await ask("cached")).toMatch(/cached\.pem: revoked[\s\S]*Reason: certificateHold/);
  expect(await ask("uncached")).toMatch(/uncached\.pem: good/);
  expect((await publicHttp.inject("/readyz")).json()).toMatchObject({ status: "ready" });
});
