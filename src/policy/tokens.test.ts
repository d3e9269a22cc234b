import { auditLog } from "../audit/index.js";
import { afterEach, beforeEach, expect, test } from "vitest";
import { forEachDatabase, testDatabase, type TestDatabase } from "../../test/support/databases.js";
import { fixedClock } from "../domain/index.js";
import { defaultTokenLifetimeSeconds, tokenService, type TokenService } from "./tokens.js";

forEachDatabase("API tokens", (kind) => {
  let t: TestDatabase;
  let clock: ReturnType<typeof fixedClock>;
  let tokens: TokenService;
  beforeEach(async () => {
    t = await testDatabase(kind);
    clock = fixedClock("2026-01-01T00:00:00Z");
    tokens = tokenService(t.database, clock, auditLog({ database: t.database, clock }));
  });
  afterEach(() => t.dispose());

  test.each([0, -1, -86400, 1.5, Number.NaN, Number.POSITIVE_INFINITY, 1e300, 36501 * 86400, 3e11])(
    "refuses a lifetime of %s seconds and creates no token",
    async (ttlSeconds) => {
      await expect(tokens.create({ role: "auditor", ttlSeconds })).rejects.toMatchObject({
        code: "malformed-request",
      });
      expect(await tokens.count()).toBe(0);
    },
  );

  test("a token with a lifetime says when it expires, and stops working then", async () => {
    const created = await tokens.create({ role: "auditor", ttlSeconds: 86400 });
    expect(created.expiresAt).toBe("2026-01-02T00:00:00.000Z");
    clock.advance(86399);
    await expect(tokens.authenticate(created.token)).resolves.toMatchObject({ role: "auditor" });
    clock.advance(1);
    await expect(tokens.authenticate(created.token)).rejects.toMatchObject({ code: "unauthorized" });
  });

  test("no token lives forever by default; never must be asked for", async () => {
    const usual = await tokens.create({ role: "auditor" });
    expect(Date.parse(usual.expiresAt!)).toBe(clock.now().getTime() + defaultTokenLifetimeSeconds * 1000);
    const forever = await tokens.create({ role: "auditor", ttlSeconds: null });
    expect(forever.expiresAt).toBeNull();
    clock.advance(100 * 365 * 86400);
    await expect(tokens.authenticate(forever.token)).resolves.toMatchObject({ role: "auditor" });
    await expect(tokens.authenticate(usual.token)).rejects.toMatchObject({ code: "unauthorized" });
  });

  test("lists tokens newest first without their secrets, and pages by key", async () => {
    const a = await tokens.create({ role: "auditor", description: "first" });
    clock.advance(1);
    const b = await tokens.create({ role: "operator", scopes: { tenant: ["acme"] } });
    const page = await tokens.list({ limit: 1 });
    expect(page.items.map((i) => i.id)).toEqual([b.id]);
    expect(page.items[0]).toMatchObject({ role: "operator", scopes: { tenant: ["acme"] }, state: "active" });
    expect(JSON.stringify(page)).not.toContain(b.token);
    const rest = await tokens.list({ limit: 1, after: page.next! });
    expect(rest).toEqual({
      items: [expect.objectContaining({ id: a.id, description: "first" })],
      next: null,
    });
  });

  test("records the last use, at most once a minute", async () => {
    const created = await tokens.create({ role: "auditor" });
    await tokens.authenticate(created.token);
    const first = (await tokens.list()).items[0]!.lastUsedAt;
    expect(first).toBe("2026-01-01T00:00:00.000Z");
    clock.advance(30);
    await tokens.authenticate(created.token);
    expect((await tokens.list()).items[0]!.lastUsedAt).toBe(first);
    clock.advance(30);
    await tokens.authenticate(created.token);
    expect((await tokens.list()).items[0]!.lastUsedAt).toBe("2026-01-01T00:01:00.000Z");
  });

  test("a revoked token stops working on the next request; revoking again is refused", async () => {
    const created = await tokens.create({ role: "admin" });
    await tokens.authenticate(created.token);
    expect(await tokens.revoke(created.id)).toMatchObject({
      state: "revoked",
      revokedAt: expect.any(String),
    });
    await expect(tokens.authenticate(created.token)).rejects.toMatchObject({
      code: "unauthorized",
      message: "the bearer token was revoked",
    });
    await expect(tokens.revoke(created.id)).rejects.toMatchObject({ code: "conflict" });
  });

  test("rotation gives a new secret with the same role, scopes and lifetime, and revokes the old in one step", async () => {
    const old = await tokens.create({
      role: "operator",
      scopes: { region: ["eu-1"] },
      ttlSeconds: 7 * 86400,
    });
    clock.advance(3600);
    const next = await tokens.rotate(old.id);
    expect(next).toMatchObject({ role: "operator", scopes: { region: ["eu-1"] }, state: "active" });
    expect(Date.parse(next.expiresAt!) - clock.now().getTime()).toBe(7 * 86400_000);
    await expect(tokens.authenticate(old.token)).rejects.toMatchObject({ code: "unauthorized" });
    await expect(tokens.authenticate(next.token)).resolves.toMatchObject({ tokenId: next.id });
    const listed = (await tokens.list()).items.find((i) => i.id === old.id);
    expect(listed).toMatchObject({ state: "revoked", replacedBy: next.id });
    await expect(tokens.rotate(old.id)).rejects.toMatchObject({ code: "conflict" });
  });

  test.each([
    ["an id that is not a token id", "nope", "malformed-request"],
    ["an unknown id", "00000000-0000-4000-8000-000000000000", "not-found"],
  ])("refuses to revoke or rotate %s and changes nothing", async (_name, id, code) => {
    const created = await tokens.create({ role: "auditor" });
    await expect(tokens.revoke(id)).rejects.toMatchObject({ code });
    await expect(tokens.rotate(id)).rejects.toMatchObject({ code });
    expect(await tokens.count()).toBe(1);
    await expect(tokens.authenticate(created.token)).resolves.toMatchObject({ role: "auditor" });
  });

  test("a revocation elsewhere (another node, or the database itself) holds here within a second, by the epoch", async () => {
    const created = await tokens.create({ role: "operator" });
    const other = await tokens.create({ role: "auditor" });
    // Another node: its own service and cache on the same database.
    const node = tokenService(t.database, clock, auditLog({ database: t.database, clock }));
    await expect(node.authenticate(created.token)).resolves.toMatchObject({ role: "operator" });
    await expect(node.authenticate(other.token)).resolves.toMatchObject({ role: "auditor" });
    await tokens.revoke(created.id);
    await expect(tokens.authenticate(created.token)).rejects.toMatchObject({
      message: "the bearer token was revoked",
    }); // here, at once
    // The other node trusts what it verified until its epoch is a second old, then sees the revocation.
    await expect(node.authenticate(created.token)).resolves.toMatchObject({ role: "operator" });
    clock.advance(1);
    await expect(node.authenticate(created.token)).rejects.toMatchObject({
      code: "unauthorized",
      message: "the bearer token was revoked",
    });
    await expect(node.authenticate(other.token)).resolves.toMatchObject({ role: "auditor" });
    // Straight in the database, as a restore or an operator's SQL would: the same.
    await t.database.db
      .updateTable("api_tokens")
      .set({ revoked_at: clock.now() })
      .where("id", "=", other.id)
      .execute();
    clock.advance(1);
    await expect(node.authenticate(other.token)).rejects.toMatchObject({
      message: "the bearer token was revoked",
    });
  });

  test("a cached token is refused once it expires, and rotation evicts the old secret at once", async () => {
    const created = await tokens.create({ role: "auditor", ttlSeconds: 60 });
    await tokens.authenticate(created.token);
    clock.advance(60);
    await expect(tokens.authenticate(created.token)).rejects.toMatchObject({
      message: "the bearer token has expired",
    });
    const rotating = await tokens.create({ role: "operator" });
    await tokens.authenticate(rotating.token);
    const successor = await tokens.rotate(rotating.id);
    await expect(tokens.authenticate(rotating.token)).rejects.toMatchObject({
      message: "the bearer token was revoked",
    });
    await expect(tokens.authenticate(successor.token)).resolves.toMatchObject({ role: "operator" });
  });
});
