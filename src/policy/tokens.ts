/**
 * API tokens: `kf_` and 32 random bytes (base64url). Only the SHA-256 of a token is stored, so it
 * is shown once, at creation, and never again: not in logs, not in the database. Every token has a
 * lifetime unless "never" is asked for on purpose. A verified token is kept in memory
 * (token-cache.ts), so a request costs no lookup: a revocation holds from the next request on the
 * node that made it, and within a second on the others.
 */
import { createHash, randomBytes, randomUUID, timingSafeEqual } from "node:crypto";
import type { AuditEvent, AuditLog } from "../audit/index.js";
import { KeyfleetError, quoted, type Clock } from "../domain/index.js";
import { holdLock, tokenRepository, type ApiTokenRow, type Database } from "../store/index.js";
import type { Principal, TokenPrincipal } from "./principal.js";
import { parseRole, type Role } from "./roles.js";
import { checkScopes, isScoped, type Scopes } from "./scopes.js";
import { TokenCache } from "./token-cache.js";

/** A token as it may be shown: everything but the secret (which is not kept). */
export interface TokenView {
  readonly id: string;
  readonly role: Role;
  readonly scopes: Scopes;
  readonly description: string | null;
  readonly state: "active" | "expired" | "revoked";
  readonly createdAt: string;
  readonly expiresAt: string | null;
  readonly lastUsedAt: string | null;
  readonly revokedAt: string | null;
  readonly replacedBy: string | null;
}

export interface CreatedToken extends TokenView {
  /** The secret, shown this once. */
  readonly token: string;
}

export interface TokenOptions {
  readonly role: string;
  readonly scopes?: Scopes | undefined;
  readonly description?: string | undefined;
  /** Lifetime from now; absent: the default lifetime; null: never expires (said on purpose). */
  readonly ttlSeconds?: number | null | undefined;
  /** Who creates it, for the audit log; `system` (the process itself) by default. */
  readonly actor?: string | undefined;
}

/** What a token lives when nobody says otherwise: 90 days. */
export const defaultTokenLifetimeSeconds = 90 * 86400;
/** The longest lifetime that may be asked for, a hundred years ("never" is said with null). */
export const maxTokenLifetimeSeconds = 36500 * 86400;
/** Last use is written at most once a minute per token, so authentication is not a write per request. */
const lastUseResolutionMs = 60_000;
/** Token ids are UUIDs; the rule bounds what callers may send as one. */
export const tokenIdPattern = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

const PREFIX = "kf_";

function hashSecret(token: string): Buffer {
  return createHash("sha256").update(token, "utf8").digest();
}

/**
 * When a token created now with this lifetime expires. A lifetime of zero, a negative one or NaN
 * would make a token that never expires or is born expired, so they are refused, not ignored.
 */
function expiry(clock: Clock, ttlSeconds: number | null | undefined): Date | null {
  if (ttlSeconds === null) return null;
  const seconds = ttlSeconds ?? defaultTokenLifetimeSeconds;
  const at = new Date(clock.now().getTime() + seconds * 1000);
  if (!Number.isSafeInteger(seconds) || seconds <= 0 || Number.isNaN(at.getTime())) {
    throw new KeyfleetError(
      "malformed-request",
      `a token lifetime must be a positive whole number of seconds, got ${String(seconds)}`,
    );
  }
  if (seconds > maxTokenLifetimeSeconds) {
    throw new KeyfleetError(
      "malformed-request",
      `a token lifetime is at most ${maxTokenLifetimeSeconds / 86400} days; for a token that never expires, ask for that (--ttl-days never)`,
    );
  }
  return at;
}

function scopesOf(row: ApiTokenRow): Scopes {
  return typeof row.scopes === "string" ? (JSON.parse(row.scopes) as Scopes) : row.scopes;
}

function viewOf(row: ApiTokenRow, now: Date): TokenView {
  const state = row.revoked_at
    ? "revoked"
    : row.expires_at && row.expires_at.getTime() <= now.getTime()
      ? "expired"
      : "active";
  return {
    id: row.id,
    role: parseRole(row.role),
    scopes: scopesOf(row),
    description: row.description,
    state,
    createdAt: row.created_at.toISOString(),
    expiresAt: row.expires_at?.toISOString() ?? null,
    lastUsedAt: row.last_used_at?.toISOString() ?? null,
    revokedAt: row.revoked_at?.toISOString() ?? null,
    replacedBy: row.replaced_by,
  };
}

/**
 * What only unscoped principals may do, and why: a scoped token could mint a token wider than
 * itself; metrics count the whole fleet (issuance by profile and outcome, requests by route and
 * problem); the audit log records the whole fleet's events. One rule, three reasons.
 */
function requireUnscoped(principal: Principal, refusal: string): void {
  if (isScoped(principal.scopes)) throw new KeyfleetError("forbidden", refusal);
}

export function checkMayManageTokens(principal: Principal): void {
  requireUnscoped(principal, "a scoped token may not manage tokens; use an unscoped admin token");
}

export function checkMayReadMetrics(principal: Principal): void {
  requireUnscoped(
    principal,
    "a scoped token may not read metrics: they count the whole fleet; use an unscoped token (role metrics)",
  );
}

export function checkMayReadEvents(principal: Principal): void {
  requireUnscoped(
    principal,
    "a scoped token may not read the event feed: it carries the whole fleet's events; use an unscoped token",
  );
}

export function checkMayReadAuditLog(principal: Principal): void {
  requireUnscoped(
    principal,
    "a scoped token may not read the audit log: it records the whole fleet; use an unscoped auditor token",
  );
}

function checkTokenId(id: string): void {
  if (!tokenIdPattern.test(id)) {
    throw new KeyfleetError(
      "malformed-request",
      `a token id is a UUID as \`token list\` prints it, got ${quoted(id)}`,
    );
  }
}

export function tokenService(
  database: Database,
  clock: Clock,
  audit: AuditLog,
  cache: TokenCache = new TokenCache(),
) {
  const tokens = tokenRepository(database.db);

  const created = (t: CreatedToken, actor: string): AuditEvent => ({
    type: "token.created",
    actor,
    subject: `token:${t.id}`,
    // What the token may do and until when; never its secret (nor the secret's hash).
    details: { id: t.id, role: t.role, scopes: t.scopes, description: t.description, expiresAt: t.expiresAt },
  });
  const revoked = (id: string, actor: string, successor: string | null): AuditEvent => ({
    type: "token.revoked",
    actor,
    subject: `token:${id}`,
    details: { id, successor },
  });

  async function insert(
    repository: ReturnType<typeof tokenRepository>,
    options: TokenOptions,
  ): Promise<CreatedToken> {
    const role = parseRole(options.role);
    checkScopes(options.scopes ?? {});
    const expiresAt = expiry(clock, options.ttlSeconds);
    const token = PREFIX + randomBytes(32).toString("base64url");
    const row = await repository.insert({
      id: randomUUID(),
      secret_hash: hashSecret(token),
      role,
      scopes: JSON.stringify(options.scopes ?? {}),
      description: options.description ?? null,
      created_at: clock.now(),
      expires_at: expiresAt,
    });
    return { ...viewOf(row, clock.now()), token };
  }

  /** The token, held for update inside `tx`; refused if unknown or already revoked. */
  async function live(repository: ReturnType<typeof tokenRepository>, id: string): Promise<ApiTokenRow> {
    checkTokenId(id);
    const row = await repository.byId(id, true);
    if (!row) throw new KeyfleetError("not-found", `no token ${id}`);
    if (row.revoked_at) {
      throw new KeyfleetError(
        "conflict",
        `token ${id} was already revoked at ${row.revoked_at.toISOString()}`,
      );
    }
    return row;
  }

  return {
    create: (options: TokenOptions): Promise<CreatedToken> =>
      database.transaction(async (tx) => {
        const token = await insert(tokenRepository(tx), options);
        await audit.append(tx, [created(token, options.actor ?? "system")]);
        return token;
      }),

    /**
     * The first admin token, if the authority has no token yet; undefined if it has. Made under the
     * first-admin-token lock, so servers starting together on one database make one.
     */
    createFirstAdmin: (): Promise<CreatedToken | undefined> =>
      database.transaction(async (tx) => {
        await holdLock(tx, "first-admin-token");
        const repository = tokenRepository(tx);
        if ((await repository.count()) > 0) return undefined;
        const token = await insert(repository, { role: "admin", description: "first admin token" });
        await audit.append(tx, [created(token, "system")]);
        return token;
      }),

    async list(options: { after?: string | undefined; limit?: number | undefined } = {}) {
      const page = await tokens.list(options);
      const now = clock.now();
      return { items: page.items.map((r) => viewOf(r, now)), next: page.next ?? null };
    },

    async revoke(id: string, actor = "system"): Promise<TokenView> {
      const view = await database.transaction(async (tx) => {
        const repository = tokenRepository(tx);
        const row = await live(repository, id);
        await repository.revoke(row.id, clock.now());
        await audit.append(tx, [revoked(row.id, actor, null)]);
        return viewOf((await repository.byId(row.id))!, clock.now());
      });
      cache.evict(id);
      return view;
    },

    /**
     * A new secret for the same role, scopes and description; the old token is revoked in the same
     * transaction and names its successor. The lifetime is the old one's unless another is asked for.
     */
    async rotate(
      id: string,
      options: { ttlSeconds?: number | null | undefined; actor?: string | undefined } = {},
    ): Promise<CreatedToken> {
      const successor = await database.transaction(async (tx) => {
        const repository = tokenRepository(tx);
        const old = await live(repository, id);
        const lifetime =
          old.expires_at === null
            ? null
            : Math.round((old.expires_at.getTime() - old.created_at.getTime()) / 1000);
        const successor = await insert(repository, {
          role: old.role,
          scopes: scopesOf(old),
          description: old.description ?? undefined,
          ttlSeconds: options.ttlSeconds === undefined ? lifetime : options.ttlSeconds,
        });
        await repository.revoke(old.id, clock.now(), successor.id);
        const actor = options.actor ?? "system";
        await audit.append(tx, [created(successor, actor), revoked(old.id, actor, successor.id)]);
        return successor;
      });
      cache.evict(id);
      return successor;
    },

    async authenticate(token: string): Promise<TokenPrincipal> {
      if (!token.startsWith(PREFIX))
        throw new KeyfleetError("unauthorized", "the bearer token is not a Keyfleet token");
      const hash = hashSecret(token);
      const key = hash.toString("base64");
      const now = clock.now();
      // The epoch is read before any row: a revocation committed after it changes it (token-cache.ts).
      if (cache.epochDue(now)) cache.observeEpoch(await tokens.revokedCount(), now);
      const cached = cache.get(key, now);
      if (cached) {
        if (!cached.lastUsedAt || now.getTime() - cached.lastUsedAt.getTime() >= lastUseResolutionMs) {
          await tokens.touch(cached.principal.tokenId, now);
          cached.lastUsedAt = now;
        }
        return cached.principal;
      }
      const row = await tokens.bySecretHash(hash);
      // The lookup is by hash; comparing again in constant time costs nothing and keeps it honest.
      if (!row || !timingSafeEqual(Buffer.from(row.secret_hash), hash)) {
        throw new KeyfleetError("unauthorized", "unknown bearer token");
      }
      if (row.revoked_at) throw new KeyfleetError("unauthorized", "the bearer token was revoked");
      if (row.expires_at && row.expires_at.getTime() <= now.getTime()) {
        throw new KeyfleetError("unauthorized", "the bearer token has expired");
      }
      let lastUsedAt = row.last_used_at;
      if (!lastUsedAt || now.getTime() - lastUsedAt.getTime() >= lastUseResolutionMs) {
        await tokens.touch(row.id, now);
        lastUsedAt = now;
      }
      const principal: TokenPrincipal = {
        kind: "token",
        tokenId: row.id,
        role: parseRole(row.role),
        scopes: scopesOf(row),
      };
      cache.set(key, { principal, expiresAt: row.expires_at, lastUsedAt });
      return principal;
    },

    count: () => tokens.count(),
  };
}

export type TokenService = ReturnType<typeof tokenService>;
