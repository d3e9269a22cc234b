/**
 * API tokens: `kf_` and 32 random bytes (base64url). Only the SHA-256 of a token is stored, so it
 * is shown once, at creation, and never again: not in logs, not in the database.
 */
import { createHash, randomBytes, randomUUID, timingSafeEqual } from "node:crypto";
import { KeyfleetError, type Clock } from "../domain/index.js";
import type { TokenRepository } from "../store/index.js";
import { parseRole, type Role } from "./roles.js";
import { checkScopes, type Scopes } from "./scopes.js";

export interface Principal {
  readonly tokenId: string;
  readonly role: Role;
  readonly scopes: Scopes;
}

const PREFIX = "kf_";

function hashSecret(token: string): Buffer {
  return createHash("sha256").update(token, "utf8").digest();
}

/**
 * When a token created now with this lifetime expires. A lifetime of zero, a negative one or NaN
 * would make a token that never expires or is born expired, so they are refused, not ignored.
 */
function expiry(clock: Clock, ttlSeconds: number): Date {
  const at = new Date(clock.now().getTime() + ttlSeconds * 1000);
  if (!Number.isSafeInteger(ttlSeconds) || ttlSeconds <= 0 || Number.isNaN(at.getTime())) {
    throw new KeyfleetError(
      "malformed-request",
      `a token lifetime must be a positive whole number of seconds, got ${String(ttlSeconds)}`,
    );
  }
  return at;
}

export function tokenService(tokens: TokenRepository, clock: Clock) {
  return {
    async create(options: {
      role: string;
      scopes?: Scopes;
      description?: string;
      /** Lifetime from now; absent means the token does not expire. */
      ttlSeconds?: number;
    }): Promise<{ id: string; token: string; expiresAt: Date | null }> {
      const role = parseRole(options.role);
      checkScopes(options.scopes ?? {});
      const expiresAt = options.ttlSeconds === undefined ? null : expiry(clock, options.ttlSeconds);
      const token = PREFIX + randomBytes(32).toString("base64url");
      const id = randomUUID();
      await tokens.insert({
        id,
        secret_hash: hashSecret(token),
        role,
        scopes: JSON.stringify(options.scopes ?? {}),
        description: options.description ?? null,
        expires_at: expiresAt,
      });
      return { id, token, expiresAt };
    },

    async authenticate(token: string): Promise<Principal> {
      if (!token.startsWith(PREFIX))
        throw new KeyfleetError("unauthorized", "the bearer token is not a Keyfleet token");
      const hash = hashSecret(token);
      const row = await tokens.bySecretHash(hash);
      // The lookup is by hash; comparing again in constant time costs nothing and keeps it honest.
      if (!row || !timingSafeEqual(Buffer.from(row.secret_hash), hash)) {
        throw new KeyfleetError("unauthorized", "unknown bearer token");
      }
      if (row.revoked_at) throw new KeyfleetError("unauthorized", "the bearer token was revoked");
      if (row.expires_at && row.expires_at.getTime() <= clock.now().getTime()) {
        throw new KeyfleetError("unauthorized", "the bearer token has expired");
      }
      const scopes = typeof row.scopes === "string" ? (JSON.parse(row.scopes) as Scopes) : row.scopes;
      return { tokenId: row.id, role: parseRole(row.role), scopes };
    },

    count: () => tokens.count(),
  };
}

export type TokenService = ReturnType<typeof tokenService>;
