/**
 * Who may read /metrics, and where (issue 13, defect 8): only a token with metrics.read and no
 * scope, and only on HTTPS; the public plain-HTTP listener has no /metrics. One registry counts
 * both listeners. What the metrics hold: test/http-metrics.test.ts.
 */
import { readFile } from "node:fs/promises";
import { request as httpRequest } from "node:http";
import { request as httpsRequest } from "node:https";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { ensureInitialized } from "../src/first-run.js";
import { startServers, type RunningServers } from "../src/http/index.js";
import { testApp, type TestApp } from "./support/app.js";

function get(
  url: string,
  ca: string,
  token?: string,
): Promise<{ status: number; type: string; body: string }> {
  return new Promise((resolve, reject) => {
    const options = { ca, headers: token ? { authorization: `Bearer ${token}` } : {} };
    const request = url.startsWith("https:") ? httpsRequest : httpRequest;
    request(url, options, (res) => {
      let body = "";
      res.on("data", (c: Buffer) => (body += c.toString()));
      res.on("end", () =>
        resolve({ status: res.statusCode ?? 0, type: String(res.headers["content-type"]), body }),
      );
    })
      .on("error", reject)
      .end();
  });
}

describe("/metrics on a running server [pglite]", () => {
  let t: TestApp;
  let servers: RunningServers;
  let ca: string;
  let admin: string;

  beforeAll(async () => {
    t = await testApp("pglite", { config: { httpsPort: 0, httpPort: 0 } });
    const run = await ensureInitialized(t.app, { algorithm: "p256" });
    admin = (await readFile(run.adminTokenFile!, "utf8")).trim();
    servers = await startServers(t.app);
    ca = (await t.app.authority.chain()).pem;
  });
  afterAll(async () => {
    await servers?.close();
    await t?.dispose();
  });

  test("without a token HTTPS answers 401, and the public plain-HTTP listener has no /metrics at all", async () => {
    const anonymous = await get(`${servers.httpsUrl}/metrics`, ca);
    expect(anonymous.status).toBe(401);
    expect(anonymous.type).toMatch(/^application\/problem\+json/);
    expect(anonymous.body).not.toContain("keyfleet_");
    const plain = await get(`${servers.httpUrl}/metrics`, ca);
    expect(plain.status).toBe(404);
    expect(plain.type).toMatch(/^application\/problem\+json/);
    expect(plain.body).not.toContain("keyfleet_");
    const plainWithToken = await get(`${servers.httpUrl}/metrics`, ca, admin);
    expect(plainWithToken.status).toBe(404); // a token is never sent in clear for it, either
  });

  test("a token of role metrics reads /metrics and nothing else", async () => {
    const scraper = (await t.app.tokens.create({ role: "metrics", description: "prometheus" })).token;
    const scrape = await get(`${servers.httpsUrl}/metrics`, ca, scraper);
    expect(scrape.status).toBe(200);
    expect(scrape.type).toMatch(/^text\/plain; version=0\.0\.4/);
    expect(scrape.body).toContain("keyfleet_http_request_duration_seconds");
    for (const path of ["/api/v1/certificates", "/api/v1/tokens"]) {
      const other = await get(`${servers.httpsUrl}${path}`, ca, scraper);
      expect(other.status, path).toBe(403);
    }
  });

  test("an auditor reads it; a scoped token does not (the counts are the whole fleet's)", async () => {
    const auditor = (await t.app.tokens.create({ role: "auditor" })).token;
    expect((await get(`${servers.httpsUrl}/metrics`, ca, auditor)).status).toBe(200);
    const scoped = (await t.app.tokens.create({ role: "auditor", scopes: { tenant: ["acme"] } })).token;
    const refused = await get(`${servers.httpsUrl}/metrics`, ca, scoped);
    expect(refused.status).toBe(403);
    expect(JSON.parse(refused.body)).toMatchObject({
      code: "forbidden",
      detail: expect.stringMatching(/whole fleet/),
    });
  });

  test("one registry counts both listeners: a plain-HTTP request shows in the HTTPS scrape", async () => {
    expect((await get(`${servers.httpUrl}/problems/`, ca)).status).toBe(200);
    const { body } = await get(`${servers.httpsUrl}/metrics`, ca, admin);
    expect(body).toMatch(
      /^keyfleet_http_request_duration_seconds_count\{method="GET",route="\/problems\/",status="200",surface="public"\} [1-9]/m,
    );
  });
});
