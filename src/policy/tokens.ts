/**
 * API tokens: `kf_` and 32 random bytes (base64url). Only the SHA-256 of a token is stored, so it
 * is shown once, at creation, and never again: not in logs, not in the database.
 */
import { createHash, randomBytes, randomUUID, timingSafeEqual } from "node:crypto";
import { KeyfleetError, type Clock } from "../domain/index.js";
import type { TokenRepository } from "../store/index.js";
import { parseRole, type Role } from "./roles.js";

export type Scopes = Readonly<Record<string, readonly string[]>>;

export interface Principal {
  readonly tokenId: string;
  readonly role: Role;
  readonly scopes: Scopes;
}

const PREFIX = "kf_";

function hashSecret(token: string): Buffer {
  return createHash("sha256").update(token, "utf8").digest();
}

/** `KEY=VALUE` pairs into scopes; a key may repeat (`--scope tenant=a --scope tenant=b`). */
export function parseScopes(pairs: readonly string[]): Scopes {
  const scopes: Record<string, string[]> = {};
  for (const pair of pairs) {
    const m = /^([a-z][a-z0-9_-]*)=(.+)$/i.exec(pair);
    if (!m) throw new KeyfleetError("malformed-request", `scope "${pair}" is not KEY=VALUE`);
    (scopes[m[1]!] ??= []).push(m[2]!);
  }
  return scopes;
}

export function tokenService(tokens: TokenRepository, clock: Clock) {
  return {
    async create(options: {
      role: string;
      scopes?: Scopes;
      description?: string;
      ttlSeconds?: number;
    }): Promise<{ id: string; token: string }> {
      const role = parseRole(options.role);
      const token = PREFIX + randomBytes(32).toString("base64url");
      const id = randomUUID();
      await tokens.insert({
        id,
        secret_hash: hashSecret(token),
        role,
        scopes: JSON.stringify(options.scopes ?? {}),
        description: options.description ?? null,
        expires_at: options.ttlSeconds ? new Date(clock.now().getTime() + options.ttlSeconds * 1000) : null,
      });
      return { id, token };
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
