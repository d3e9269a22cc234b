/**
 * Who an admin API request is, once authenticated: an API token of ours, or an OIDC bearer JWT
 * from the one identity provider the configuration trusts. Either carries a role and scopes, so
 * everything downstream (callerOf, authorize, scopes, the audit log) treats them alike.
 */
import type { Role } from "./roles.js";
import type { Scopes } from "./scopes.js";

export interface TokenPrincipal {
  readonly kind: "token";
  readonly tokenId: string;
  readonly role: Role;
  readonly scopes: Scopes;
}

export interface OidcPrincipal {
  readonly kind: "oidc";
  /** The JWT's `iss`, which is the configured issuer. */
  readonly issuer: string;
  /** The JWT's `sub`: unique within its issuer only (OpenID Connect Core 1.0 §2). */
  readonly subject: string;
  readonly role: Role;
  readonly scopes: Scopes;
  /** The JWT's `exp`. */
  readonly expiresAt: Date;
}

export type Principal = TokenPrincipal | OidcPrincipal;

/**
 * How a principal is named in the audit log: `token:<id>`, or `oidc:<issuer>#<sub>`. A `sub` is
 * unique only within its issuer, and the log outlives any one identity provider, so the issuer is
 * part of the name; an issuer identifier has no fragment (OpenID Connect Core 1.0 §2, RFC 8414 §2),
 * so the first `#` separates the two.
 */
export function actorOf(principal: Principal): string {
  switch (principal.kind) {
    case "token":
      return `token:${principal.tokenId}`;
    case "oidc":
      return `oidc:${principal.issuer}#${principal.subject}`;
    default: {
      const never: never = principal;
      return never;
    }
  }
}
