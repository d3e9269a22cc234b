/**
 * A policy version in force: what it forbids (its authorization policies, after the roles and
 * scopes allowed) and which issuance rule decides a device's certificate. Decisions are Cedar's,
 * cached by everything the request shows a policy (cedar-model.ts), so a fleet of devices alike
 * costs one evaluation per kind of device, not one per request.
 */
import { createHash } from "node:crypto";
import { KeyfleetError, quoted } from "../domain/index.js";
import type { Caller } from "./authorize.js";
import {
  evaluate,
  preparse,
  requestKey,
  type Decision,
  type PolicyAction,
  type PolicyDevice,
  type PolicyRequest,
} from "./cedar-model.js";
import type { CheckedPolicy, IssuanceRule, RoleBinding } from "./policy-document.js";
import { isScoped } from "./scopes.js";

/** The version that is in force before any document was applied: roles and scopes, profile defaults. */
export const builtInPolicyVersion = 0;

/** A bound on the decisions a version remembers; past it, it starts again. */
const decisionCacheSize = 10_000;

/** What the rule that applies to a device allows its certificate. */
export interface IssuanceTerms {
  readonly policyVersion: number;
  /** The rule's name; null under the built-in version (no document). */
  readonly rule: string | null;
  /** Undefined: whichever profile the request names, with that profile's limits. */
  readonly profile: string | undefined;
  readonly maxValiditySeconds: number | undefined;
  readonly keyAlgorithms: readonly string[] | undefined;
  readonly attestation: "required" | "optional";
  readonly rotationDays: number | undefined;
  /** How long after its certificate expired a device may come back with its IDevID alone; undefined: any time. */
  readonly expiredReturnSeconds: number | undefined;
}

export class ActivePolicy {
  readonly #rules: readonly IssuanceRule[];
  readonly #bindings: readonly RoleBinding[];
  readonly #forbidSet: string | undefined;
  readonly #ruleSet: string | undefined;
  readonly #decisions = new Map<string, Decision>();

  constructor(
    readonly version: number,
    checked: CheckedPolicy | undefined,
  ) {
    this.#rules = checked?.document.issuance ?? [];
    this.#bindings = checked?.document.bindings ?? [];
    this.#forbidSet =
      checked && Object.keys(checked.forbids).length > 0 ? setOf(checked.forbids, true) : undefined;
    this.#ruleSet = this.#rules.length > 0 ? setOf(checked!.rules, false) : undefined;
  }

  /**
   * Refuses (`forbidden`) what an authorization policy of this version forbids the caller to do to
   * this device. Call it after `authorize`: roles and scopes first, then the policy narrows.
   */
  check(caller: Caller, action: PolicyAction, device: PolicyDevice, command: string, what: string): void {
    if (this.#forbidSet === undefined) return;
    const decision = this.#decide(this.#forbidSet, request(caller, action, device, command), "forbid");
    if (decision.allowed && decision.failed.length === 0) return;
    const by = decision.allowed ? decision.failed : decision.policies;
    throw new KeyfleetError(
      "forbidden",
      `policy version ${this.version} forbids ${command} for ${what} (${by.map((p) => quoted(p)).join(", ")}${decision.allowed ? ": it could not be evaluated" : ""})`,
      { detail: { policyVersion: this.version, policies: by } },
    );
  }

  /** The terms of the first issuance rule that holds for this device; `forbidden` when none does. */
  issuance(caller: Caller, device: PolicyDevice, command: string, what: string): IssuanceTerms {
    if (this.#ruleSet === undefined) {
      return {
        policyVersion: this.version,
        rule: null,
        profile: undefined,
        maxValiditySeconds: undefined,
        keyAlgorithms: undefined,
        attestation: "optional",
        rotationDays: undefined,
        expiredReturnSeconds: undefined,
      };
    }
    const decision = this.#decide(this.#ruleSet, request(caller, "cert.issue", device, command), "rule");
    if (decision.failed.length > 0) {
      throw new KeyfleetError(
        "forbidden",
        `policy version ${this.version}: issuance rule ${quoted(decision.failed[0]!.slice(5))} could not be evaluated for ${what}; no certificate is issued until the policy is fixed`,
        { detail: { policyVersion: this.version } },
      );
    }
    const holding = new Set(decision.policies);
    const rule = this.#rules.find((r) => holding.has(`rule:${r.rule}`));
    if (!rule) {
      throw new KeyfleetError(
        "forbidden",
        `policy version ${this.version} has no issuance rule for ${what}: no certificate for it`,
        { detail: { policyVersion: this.version } },
      );
    }
    return {
      policyVersion: this.version,
      rule: rule.rule,
      profile: rule.profile,
      maxValiditySeconds: rule.validityDays === undefined ? undefined : rule.validityDays * 86_400,
      keyAlgorithms: rule.keyAlgorithms,
      attestation: rule.attestation,
      rotationDays: rule.rotationDays,
      expiredReturnSeconds:
        rule.expiredReturnDays === undefined ? undefined : rule.expiredReturnDays * 86_400,
    };
  }

  /**
   * The role this version binds to an OIDC principal whose JWT names none: the binding of its
   * subject, else the first binding of one of its groups; undefined when none binds it.
   */
  roleFor(subject: string, groups: readonly string[]): RoleBinding | undefined {
    return (
      this.#bindings.find((b) => b.subject === subject) ??
      this.#bindings.find((b) => b.group !== undefined && groups.includes(b.group))
    );
  }

  #decide(set: string, r: PolicyRequest, kind: string): Decision {
    const key = `${kind}${requestKey(r)}`;
    const known = this.#decisions.get(key);
    if (known) return known;
    const decision = evaluate(set, r);
    if (this.#decisions.size >= decisionCacheSize) this.#decisions.clear();
    this.#decisions.set(key, decision);
    return decision;
  }
}

function request(caller: Caller, action: PolicyAction, device: PolicyDevice, command: string): PolicyRequest {
  return {
    principal: { actor: caller.actor, role: caller.role, scoped: isScoped(caller.scopes) },
    action,
    device,
    command,
  };
}

/** A forbid set gets a blanket permit (the roles already allowed); a rule set is its rules. Preparsed once per content. */
function setOf(policies: Readonly<Record<string, string>>, forbids: boolean): string {
  const all = forbids
    ? { ...policies, "keyfleet:roles-allowed": "permit (principal, action, resource);" }
    : policies;
  const id = createHash("sha256")
    .update(JSON.stringify(Object.entries(all)))
    .digest("base64url");
  preparse(id, all);
  return id;
}
