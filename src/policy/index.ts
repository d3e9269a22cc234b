/**
 * Who may do what: principals (API tokens, OIDC bearer JWTs) with roles and scopes. Versioned policy documents join
 * this module with the registry; issuance never decides who a caller is.
 */
export {
  authorize,
  callerOf,
  deviceCaller,
  listScope,
  operatorCaller,
  systemCaller,
  type Caller,
  type ScopedResource,
} from "./authorize.js";
export { ActivePolicy, builtInPolicyVersion, type IssuanceTerms } from "./active-policy.js";
export { policyActions, type PolicyAction, type PolicyDevice } from "./cedar-model.js";
export {
  checkPolicyDocument,
  maxPolicyBytes,
  policyFormat,
  type CheckedPolicy,
  type IssuanceRule,
  type PolicyDocument,
  type ProfileCatalog,
} from "./policy-document.js";
export { policyService, type PolicyService, type PolicyVersionView } from "./policies.js";
export { allows, parseRole, roles, type ApiRole, type Permission, type Role } from "./roles.js";
export { bearerAuthenticator, type BearerAuthenticator } from "./bearer.js";
export {
  looksLikeJwt,
  oidcAlgorithms,
  oidcClockToleranceSeconds,
  oidcVerifier,
  type OidcSettings,
  type OidcVerifier,
} from "./oidc.js";
export { actorOf, type OidcPrincipal, type Principal, type TokenPrincipal } from "./principal.js";
export {
  checkMayManageTokens,
  checkMayReadAuditLog,
  checkMayReadEvents,
  checkMayReadMetrics,
  defaultTokenLifetimeSeconds,
  maxTokenLifetimeSeconds,
  tokenIdPattern,
  tokenService,
  type CreatedToken,
  type TokenOptions,
  type TokenService,
  type TokenView,
} from "./tokens.js";
export {
  describeScopes,
  isScoped,
  parseScopes,
  requestScopeOf,
  scopeCovers,
  scopeKeys,
  type ScopedAttributes,
  type ScopeKey,
  type Scopes,
} from "./scopes.js";
