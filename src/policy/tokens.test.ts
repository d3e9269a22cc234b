import { afterEach, beforeEach, expect, test } from "vitest";
import { forEachDatabase, testDatabase, type TestDatabase } from "../../test/support/databases.js";
import { fixedClock } from "../domain/index.js";
import { tokenRepository } from "../store/index.js";
import { tokenService, type TokenService } from "./tokens.js";

forEachDatabase("API token lifetimes", (kind) => {
  let t: TestDatabase;
  let clock: ReturnType<typeof fixedClock>;
  let tokens: TokenService;
  beforeEach(async () => {
    t = await testDatabase(kind);
    clock = fixedClock("2026-01-01T00:00:00Z");
    tokens = tokenService(tokenRepository(t.database.db), clock);
  });
  afterEach(() => t.dispose());

  test.each([0, -1, -86400, 1.5, Number.NaN, Number.POSITIVE_INFINITY, 1e300])(
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
    expect(created.expiresAt).toEqual(new Date("2026-01-02T00:00:00Z"));
    clock.advance(86399);
    await expect(tokens.authenticate(created.token)).resolves.toMatchObject({ role: "auditor" });
    clock.advance(1);
    await expect(tokens.authenticate(created.token)).rejects.toMatchObject({ code: "unauthorized" });
  });

  test("a token without a lifetime has no expiry", async () => {
    const created = await tokens.create({ role: "auditor" });
    expect(created.expiresAt).toBeNull();
    clock.advance(100 * 365 * 86400);
    await expect(tokens.authenticate(created.token)).resolves.toMatchObject({ role: "auditor" });
  });
});
