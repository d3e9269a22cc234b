/**
 * Problem types resolve: every problem's `type` is a reference to a page the same server serves,
 * on HTTPS and on plain HTTP, for every error code there is.
 */
import type { FastifyInstance } from "fastify";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { buildHttpApp } from "../src/http/index.js";
import { statusOf } from "../src/http/problem.js";
import { testApp, type TestApp } from "./support/app.js";

let t: TestApp;
const servers: Record<"full" | "public", FastifyInstance> = {} as never;

beforeAll(async () => {
  t = await testApp("pglite");
  servers.full = await buildHttpApp(t.app, "full");
  servers.public = await buildHttpApp(t.app, "public");
});
afterAll(async () => {
  await servers.full?.close();
  await servers.public?.close();
  await t?.dispose();
});

// The status table, not the descriptions' table: a code there without a page fails here.
const codes = Object.keys(statusOf);

/** A problem's `type`, resolved against the URL of the request it answered (RFC 3986 §5). */
const resolve = (type: string, requestUrl: string) => {
  const url = new URL(type, requestUrl);
  return { origin: url.origin, path: url.pathname };
};

describe.each(["full", "public"] as const)("on the %s surface", (surface) => {
  test.each(codes)(
    "/problems/%s is an HTML page naming the code, what it means and what to do",
    async (code) => {
      const res = await servers[surface].inject(`/problems/${code}`);
      expect(res.statusCode).toBe(200);
      expect(res.headers["content-type"]).toBe("text/html; charset=utf-8");
      expect(res.body).toMatch(/^<!doctype html>/);
      expect(res.body).toContain(`<title>${code.replace(/-/g, " ")} — Keyfleet problem type</title>`);
      expect(res.body).toContain(`<code>${code}</code>`);
      expect(res.body).toContain("<h2>What it means</h2>");
      expect(res.body).toContain("<h2>What to do</h2>");
      expect(res.body).toContain(`HTTP ${statusOf[code as keyof typeof statusOf]}`);
    },
  );

  test("/problems/ lists every code with a link to its page; /problems redirects there", async () => {
    const res = await servers[surface].inject("/problems/");
    expect(res.statusCode).toBe(200);
    expect(res.headers["content-type"]).toBe("text/html; charset=utf-8");
    const links = [...res.body.matchAll(/<a href="([^"]+)">/g)].map((m) => m[1]);
    expect(links.sort()).toEqual(codes.map((c) => `/problems/${c}`).sort());
    const bare = await servers[surface].inject("/problems");
    expect(bare.statusCode).toBe(301);
    expect(bare.headers.location).toBe("/problems/");
  });

  test.each(["no-such-code", "constructor", "__proto__", "toString", "NOT-FOUND", "%3Cb%3E"])(
    "an unknown code (%s) is a 404 problem",
    async (code) => {
      const res = await servers[surface].inject(`/problems/${code}`);
      expect(res.statusCode).toBe(404);
      expect(res.headers["content-type"]).toMatch(/^application\/problem\+json/);
      expect(res.json()).toMatchObject({ status: 404, code: "not-found", type: "/problems/not-found" });
      expect(res.json().detail).toMatch(/^no problem type ".*"; the list is at \/problems\/$/);
    },
  );
});

test("the type of a refusal on HTTPS dereferences on the same server to its page", async () => {
  const requestUrl = "https://127.0.0.1:8443/api/v1/certificates";
  const refused = await servers.full.inject({ method: "POST", url: "/api/v1/certificates", payload: {} });
  expect(refused.statusCode).toBe(401);
  const { type } = refused.json<{ type: string }>();
  expect(type).toBe("/problems/unauthorized");
  const target = resolve(type, requestUrl);
  expect(target.origin).toBe(new URL(requestUrl).origin);
  const page = await servers.full.inject(target.path);
  expect(page.statusCode).toBe(200);
  expect(page.body).toContain("<code>unauthorized</code>");
  // The description's text is escaped: its placeholder shows, it is no element.
  expect(page.body).toContain("Bearer &#60;token&#62;");
  expect(page.body).not.toContain("<token>");
});

test("the type of a refusal on plain HTTP dereferences there too", async () => {
  const requestUrl = "http://127.0.0.1:8080/ca/ca-0000000000.cer";
  const refused = await servers.public.inject(new URL(requestUrl).pathname);
  expect(refused.statusCode).toBe(404);
  const target = resolve(refused.json<{ type: string }>().type, requestUrl);
  expect(target).toEqual({ origin: "http://127.0.0.1:8080", path: "/problems/not-found" });
  const page = await servers.public.inject(target.path);
  expect(page.statusCode).toBe(200);
  expect(page.body).toContain("<code>not-found</code>");
});
