/**
 * Which authority a bearer credential belongs to: `kf_…` is an API token of ours (tokens.ts);
 * anything else shaped as a JWT goes to the OIDC verifier when one is configured (oidc.ts). Both
 * give a Principal; the caller cannot tell the paths apart by anything but the refusal's text.
 */
import { KeyfleetError } from "../domain/index.js";
import { looksLikeJwt, type OidcVerifier } from "./oidc.js";
import type { Principal } from "./principal.js";

export interface BearerAuthenticator {
  authenticate(bearer: string): Promise<Principal>;
}

export function bearerAuthenticator(
  tokens: BearerAuthenticator,
  oidc: OidcVerifier | undefined,
): BearerAuthenticator {
  return {
    authenticate(bearer) {
      if (bearer.startsWith("kf_") || !looksLikeJwt(bearer)) return tokens.authenticate(bearer);
      if (!oidc) {
        return Promise.reject(
          new KeyfleetError(
            "unauthorized",
            "the bearer token is not a Keyfleet token, and this server accepts no JWTs (OIDC is not configured)",
          ),
        );
      }
      return oidc.verify(bearer);
    },
  };
}
