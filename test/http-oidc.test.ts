/**
 * OIDC bearer JWTs on the admin API, against a JWKS this test serves on a local HTTP server with
 * keys it makes: a good JWT acts within its role and scope; every bad one is refused with its
 * problem type, changes nothing and is an audit leaf; API tokens keep working beside them.
 */
import type { FastifyInstance } from "fastify";
import { SignJWT, UnsecuredJWT, exportJWK, generateKeyPair, type CryptoKey, type JWTPayload } from "jose";
import { createHmac } from "node:crypto";
import { readFile } from "node:fs/promises";
import { createServer, type Server } from "node:http";
import { afterAll, beforeAll, expect, test } from "vitest";
import { ensureInitialized } from "../src/first-run.js";
import { buildHttpApp } from "../src/http/index.js";
import { oidcVerifier, systemCaller } from "../src/policy/index.js";
import { forEachDatabase } from "./support/databases.js";
import { testApp, type TestApp } from "./support/app.js";

const issuer = "https://idp.keyfleet.test/realms/ops";
const audience = "keyfleet-admin";

/** A JWKS at /jwks, and at /broken an answer that is no key set. */
async function jwksServer(keys: object[]): Promise<{ server: Server; url: string }> {
  const server = createServer((request, response) => {
    if (request.url === "/jwks") {
      response.writeHead(200, { "content-type": "application/jwk-set+json" });
      response.end(JSON.stringify({ keys }));
    } else {
      response.writeHead(500).end("down");
    }
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as { port: number };
  return { server, url: `http://127.0.0.1:${port}` };
}

/** A loopback URL nothing listens on. */
async function closedUrl(): Promise<string> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return `http://127.0.0.1:${port}/jwks`;
}

forEachDatabase("admin API: OIDC bearer JWTs", (kind) => {
  let t: TestApp;
  let http: FastifyInstance;
  let idp: { server: Server; url: string };
  let admin: string;
  let signing: { privateKey: CryptoKey; publicKey: CryptoKey };
  let stranger: CryptoKey;
  let acmeDevice: string;
  let globexDevice: string;

  beforeAll(async () => {
    signing = await generateKeyPair("ES256", { extractable: true });
    stranger = (await generateKeyPair("ES256")).privateKey;
    const rsa = await generateKeyPair("RS256");
    idp = await jwksServer([
      { ...(await exportJWK(signing.publicKey)), kid: "idp-1", alg: "ES256", use: "sig" },
      { ...(await exportJWK(rsa.publicKey)), kid: "idp-rsa", alg: "RS256", use: "sig" },
    ]);
    t = await testApp(kind, {
      config: { oidcIssuer: issuer, oidcAudience: audience, oidcJwksUrl: `${idp.url}/jwks` },
    });
    const run = await ensureInitialized(t.app, { algorithm: "p256" });
    admin = (await readFile(run.adminTokenFile!, "utf8")).trim();
    acmeDevice = (await t.app.devices.register({ serialNumber: "OIDC-ACME-1", tenant: "acme" }, systemCaller))
      .id;
    globexDevice = (
      await t.app.devices.register({ serialNumber: "OIDC-GLOBEX-1", tenant: "globex" }, systemCaller)
    ).id;
    http = await buildHttpApp(t.app, "full");
  });
  afterAll(async () => {
    await http?.close();
    await t?.dispose();
    await new Promise((resolve) => idp?.server.close(resolve));
  });

  const now = () => Math.floor(Date.now() / 1000);
  const claims = (change: JWTPayload = {}): JWTPayload => ({
    iss: issuer,
    aud: audience,
    sub: "alice@ops",
    iat: now(),
    exp: now() + 300,
    keyfleet_role: "operator",
    keyfleet_scopes: { tenant: ["acme"] },
    ...change,
  });
  const sign = (payload: JWTPayload, key: CryptoKey = signing.privateKey, kid = "idp-1") =>
    new SignJWT(payload).setProtectedHeader({ alg: "ES256", kid }).sign(key);
  const register = (on: FastifyInstance, bearer: string, tenant: string, serialNumber: string) =>
    on.inject({
      method: "POST",
      url: "/api/v1/devices",
      headers: { authorization: `Bearer ${bearer}` },
      payload: { serialNumber, tenant },
    });
  const deviceCount = async () =>
    Number(
      (
        await t.db.database.db
          .selectFrom("devices")
          .select((eb) => eb.fn.countAll<string>().as("n"))
          .executeTakeFirstOrThrow()
      ).n,
    );

  test("a good JWT acts as its role within its scope; outside it the device is not there or may not be made", async () => {
    const jwt = await sign(claims());
    const made = await register(http, jwt, "acme", "OIDC-ACME-2");
    expect(made.statusCode).toBe(201);
    const id = made.json<{ id: string }>().id;
    const [entry] = (await t.app.audit.entriesAbout(`device:${id}`)).map((e) => e.entry);
    expect(entry).toMatchObject({ actor: `oidc:${issuer}#alice@ops` });

    const get = (device: string) =>
      http.inject({
        method: "GET",
        url: `/api/v1/devices/${device}`,
        headers: { authorization: `Bearer ${jwt}` },
      });
    expect((await get(acmeDevice)).statusCode).toBe(200);
    const theirs = await get(globexDevice);
    expect(theirs.statusCode).toBe(404);
    expect(theirs.json()).toMatchObject({ code: "not-found" });

    const before = await deviceCount();
    const outside = await register(http, jwt, "globex", "OIDC-GLOBEX-2");
    expect(outside.statusCode).toBe(403);
    expect(outside.json()).toMatchObject({
      code: "forbidden",
      detail: expect.stringContaining("tenant=acme"),
    });
    expect(await deviceCount()).toBe(before);
  });

  test("a JWT's role is held to what the role may do, and that refusal is recorded under its name", async () => {
    const viewer = await sign(claims({ sub: "victor", keyfleet_role: "viewer", keyfleet_scopes: undefined }));
    const before = await deviceCount();
    const res = await register(http, viewer, "acme", "OIDC-ACME-3");
    expect(res.statusCode).toBe(403);
    expect(await deviceCount()).toBe(before);
    const [refused] = (await t.app.audit.entriesAbout("request:POST /api/v1/devices"))
      .map((e) => e.entry)
      .slice(-1);
    expect(refused).toMatchObject({ actor: `oidc:${issuer}#victor`, details: { code: "forbidden" } });
  });

  test("API tokens keep working beside JWTs", async () => {
    const cas = await http.inject({
      method: "GET",
      url: "/api/v1/cas",
      headers: { authorization: `Bearer ${admin}` },
    });
    expect(cas.statusCode).toBe(200);
  });

  /** A fresh server per case: the refusal limiter records one leaf a minute per kind, and these are all anonymous. */
  async function refusedOnce(
    bearer: string,
    status: number,
    code: string,
    detail: RegExp,
    on?: FastifyInstance,
  ) {
    const fresh = on ?? (await buildHttpApp(t.app, "full"));
    try {
      const devices = await deviceCount();
      const size = await t.app.audit.size();
      const res = await register(fresh, bearer, "acme", `OIDC-REFUSED-${size}`);
      expect(res.statusCode).toBe(status);
      expect(res.headers["content-type"]).toContain("application/problem+json");
      const problem = res.json<{ type: string; code: string; detail: string }>();
      expect(problem).toMatchObject({ code, type: expect.stringMatching(new RegExp(`/problems/${code}$`)) });
      expect(problem.detail).toMatch(detail);
      expect(res.body).not.toContain(bearer);
      expect(await deviceCount()).toBe(devices);
      const added = await t.app.audit.entries(size, 10);
      expect(added.map((e) => e.entry)).toEqual([
        expect.objectContaining({
          type: "request.refused",
          actor: "anonymous",
          subject: "request:POST /api/v1/devices",
          details: expect.objectContaining({ code, reason: problem.detail }),
        }),
      ]);
      expect(added[0]!.text).not.toContain(bearer);
    } finally {
      if (!on) await fresh.close();
    }
  }

  const unauthorized: [string, () => Promise<string>, RegExp][] = [
    ["expired", () => sign(claims({ iat: now() - 7200, exp: now() - 3600 })), /^the JWT expired at \d{4}-/],
    ["not yet valid (nbf)", () => sign(claims({ nbf: now() + 3600 })), /^the JWT is not valid before \d{4}-/],
    [
      "from another issuer",
      () => sign(claims({ iss: "https://evil.test" })),
      /^the JWT's issuer "https:\/\/evil.test" is not /,
    ],
    [
      "for another audience",
      () => sign(claims({ aud: "other-api" })),
      /^the JWT's audience "other-api" does not include "keyfleet-admin"$/,
    ],
    [
      "signed by a key not in the JWKS",
      () => sign(claims(), stranger),
      /^the JWT's signature does not verify with the JWKS key "idp-1"$/,
    ],
    [
      "under a kid the JWKS does not have",
      () => sign(claims(), stranger, "nobody"),
      /^no key in the JWKS has kid "nobody"/,
    ],
    [
      "unsigned (alg none)",
      async () => new UnsecuredJWT(claims()).encode(),
      /^the JWT's algorithm "none" is not allowed/,
    ],
    [
      "HS256 keyed with the public key",
      async () => {
        const jwk = await exportJWK(signing.publicKey);
        const head = Buffer.from(JSON.stringify({ alg: "HS256", kid: "idp-1" })).toString("base64url");
        const body = Buffer.from(JSON.stringify(claims())).toString("base64url");
        const mac = createHmac("sha256", JSON.stringify(jwk)).update(`${head}.${body}`).digest("base64url");
        return `${head}.${body}.${mac}`;
      },
      /^the JWT's algorithm "HS256" is not allowed/,
    ],
    [
      "without a role claim",
      () => sign(claims({ keyfleet_role: undefined })),
      /^the JWT has no role claim "keyfleet_role"/,
    ],
    [
      "with an unknown role",
      () => sign(claims({ keyfleet_role: "superuser" })),
      /^the JWT's role claim "keyfleet_role" \("superuser"\) is not a Keyfleet role/,
    ],
    [
      "with a malformed scopes claim",
      () => sign(claims({ keyfleet_scopes: ["tenant=acme"] })),
      /^the JWT's scopes claim "keyfleet_scopes" .* is not an object/,
    ],
    [
      "with an empty scope",
      () => sign(claims({ keyfleet_scopes: { tenant: [] } })),
      /^the JWT's scopes claim "keyfleet_scopes" gives tenant \[\]/,
    ],
  ];
  test.each(unauthorized)(
    "refuses a JWT %s: 401, nothing changed, an audit leaf",
    async (_name, make, detail) => {
      await refusedOnce(await make(), 401, "unauthorized", detail);
    },
  );

  test("a JWT without a role claim gets the role and scopes the policy binds to its subject or group, or none", async () => {
    await t.app.policies.apply(
      systemCaller,
      `keyfleet: policy/v1
bindings:
  - subject: bob@ops
    role: viewer
  - group: acme-provisioners
    role: provisioner
    scopes: { tenant: [acme] }
`,
    );
    const roleless = claims();
    delete roleless.keyfleet_role;
    delete roleless.keyfleet_scopes;
    const bearer = (jwt: string) => ({ authorization: `Bearer ${jwt}` });
    const bob = await sign({ ...roleless, sub: "bob@ops" });
    const read = await http.inject({
      method: "GET",
      url: `/api/v1/devices/${globexDevice}`,
      headers: bearer(bob),
    });
    expect(read.statusCode).toBe(200);
    expect((await register(http, bob, "acme", "OIDC-BOB-1")).statusCode).toBe(403);

    const carol = await sign({ ...roleless, sub: "carol@ops", groups: ["staff", "acme-provisioners"] });
    expect((await register(http, carol, "acme", "OIDC-CAROL-1")).statusCode).toBe(201);
    expect((await register(http, carol, "globex", "OIDC-CAROL-2")).statusCode).toBe(403);

    const before = await deviceCount();
    const dave = await sign({ ...roleless, sub: "dave@ops", groups: ["staff"] });
    const refused = await register(http, dave, "acme", "OIDC-DAVE-1");
    expect(refused.statusCode).toBe(401);
    expect(refused.json<{ detail: string }>().detail).toMatch(
      /^the JWT has no role claim "keyfleet_role", and policy version \d+ binds no role to its subject "dave@ops" or its groups; there is no default role$/,
    );
    expect(await deviceCount()).toBe(before);
  });

  test("a JWKS that cannot be fetched is 503 unavailable (the JWT may be good: retry), an audit leaf", async () => {
    const jwt = await sign(claims());
    for (const jwksUrl of [await closedUrl(), `${idp.url}/broken`]) {
      const down = await buildHttpApp(
        { ...t.app, oidc: oidcVerifier({ ...t.app.oidc!.settings, jwksUrl }, { clock: t.app.clock }) },
        "full",
      );
      try {
        await refusedOnce(
          jwt,
          503,
          "unavailable",
          /^the identity provider's key set \(JWKS\) at http:\/\/127\.0\.0\.1:\d+\/\w+ could not be fetched \(.+\); retry later$/,
          down,
        );
      } finally {
        await down.close();
      }
    }
  });
});
