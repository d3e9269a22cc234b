/**
 * The Cedar model a policy document is written against, and the requests Keyfleet asks of it.
 * Cedar (`@cedar-policy/cedar-wasm`) does the parsing, the type checking against this schema and
 * the evaluation; nothing here interprets a rule itself.
 *
 * - principal: `Keyfleet::Principal::"<actor>"` (`token:<id>`, `cli:<user>`, `system`) with its
 *   `role` and whether it is `scoped`;
 * - action: one of `policyActions`, the things done to a device;
 * - resource: the device, `Keyfleet::Device`, by its attributes (tenant, region — "" for none —,
 *   groups, model, manufacturer, firmware, state — "new" while it is being registered) and its
 *   labels as tags (`resource.hasTag("site") && resource.getTag("site") == "lab"`);
 * - context: `command`, the lifecycle command (`suspend`, `issue`, `rotate`, …; `register`).
 *
 * Policies name devices by their attributes, never by id (the document check refuses a device
 * literal), so a decision is a function of what the request carries and can be cached by it.
 */
import type * as Cedar from "@cedar-policy/cedar-wasm/nodejs";
import { createRequire } from "node:module";
import { KeyfleetError } from "../domain/index.js";

let loaded: typeof Cedar | undefined;
/** Cedar's WebAssembly, loaded on first use (≈ 45 ms): a command that decides nothing never pays it. */
function cedar(): typeof Cedar {
  return (loaded ??= createRequire(import.meta.url)("@cedar-policy/cedar-wasm/nodejs") as typeof Cedar);
}

/** What a policy document decides about: what is done to a device. Reads are the scope's business. */
export const policyActions = ["device.register", "device.lifecycle", "cert.issue"] as const;
export type PolicyAction = (typeof policyActions)[number];

export const cedarSchema = `namespace Keyfleet {
  entity Principal = { role: String, scoped: Bool };
  entity Device = {
    tenant: String, region: String, groups: Set<String>, model: String, manufacturer: String,
    firmware: String, state: String
  } tags String;
  type Request = { command: String };
  action ${policyActions.map((a) => JSON.stringify(a)).join(", ")}
    appliesTo { principal: Principal, resource: Device, context: Request };
}`;

export const deviceType = "Keyfleet::Device";

/** Who asks, as a policy sees it. */
export interface PolicyPrincipal {
  readonly actor: string;
  readonly role: string;
  readonly scoped: boolean;
}

/** The device a decision is about, as a policy sees it. */
export interface PolicyDevice {
  readonly tenant: string;
  readonly region: string | null;
  readonly groups: readonly string[];
  readonly labels: Readonly<Record<string, string>>;
  readonly model: string | null;
  readonly manufacturer: string | null;
  readonly firmwareVersion: string | null;
  /** "new" while it is being registered. */
  readonly state: string;
}

export interface PolicyRequest {
  readonly principal: PolicyPrincipal;
  readonly action: PolicyAction;
  readonly device: PolicyDevice;
  readonly command: string;
}

/** The request's identity for a decision cache: everything a policy can see, in a fixed order. */
export function requestKey(r: PolicyRequest): string {
  const d = r.device;
  return JSON.stringify([
    r.principal.actor,
    r.principal.role,
    r.principal.scoped,
    r.action,
    r.command,
    d.tenant,
    d.region,
    d.groups,
    Object.entries(d.labels).sort(([a], [b]) => (a < b ? -1 : 1)),
    d.model,
    d.manufacturer,
    d.firmwareVersion,
    d.state,
  ]);
}

// One uid for every device: policies see attributes, so the id would only defeat the cache.
const deviceUid = { type: deviceType, id: "" };

function entities(r: PolicyRequest): Cedar.EntityJson[] {
  const d = r.device;
  return [
    {
      uid: { type: "Keyfleet::Principal", id: r.principal.actor },
      attrs: { role: r.principal.role, scoped: r.principal.scoped },
      parents: [],
    },
    {
      uid: deviceUid,
      attrs: {
        tenant: d.tenant,
        region: d.region ?? "",
        groups: [...d.groups],
        model: d.model ?? "",
        manufacturer: d.manufacturer ?? "",
        firmware: d.firmwareVersion ?? "",
        state: d.state,
      },
      tags: { ...d.labels },
      parents: [],
    },
  ];
}

export interface Decision {
  readonly allowed: boolean;
  /** The policies that decided (those satisfied), by id. */
  readonly policies: readonly string[];
  /** Policies whose evaluation failed, by id: Keyfleet treats them as deciding against. */
  readonly failed: readonly string[];
}

/** Registers a policy set once under `id` (its content's hash) so that requests need not parse it. */
export function preparse(id: string, policies: Readonly<Record<string, string>>): void {
  const answer = cedar().preparsePolicySet(id, { staticPolicies: { ...policies } });
  if (answer.type === "failure") {
    throw new KeyfleetError("internal", `a checked policy set did not parse: ${answer.errors[0]?.message}`);
  }
}

let schemaPreparsed = false;
const schemaName = "keyfleet";

/** Asks Cedar about a request against a preparsed policy set. */
export function evaluate(policySetId: string, r: PolicyRequest): Decision {
  if (!schemaPreparsed) {
    const answer = cedar().preparseSchema(schemaName, cedarSchema);
    if (answer.type === "failure") throw new KeyfleetError("internal", "the Cedar schema did not parse");
    schemaPreparsed = true;
  }
  const answer = cedar().statefulIsAuthorized({
    principal: { type: "Keyfleet::Principal", id: r.principal.actor },
    action: { type: "Keyfleet::Action", id: r.action },
    resource: deviceUid,
    context: { command: r.command },
    preparsedPolicySetId: policySetId,
    preparsedSchemaName: schemaName,
    validateRequest: true,
    entities: entities(r),
  });
  if (answer.type === "failure") {
    throw new KeyfleetError(
      "internal",
      `a policy request was refused by Cedar: ${answer.errors[0]?.message}`,
    );
  }
  const { decision, diagnostics } = answer.response;
  return {
    allowed: decision === "allow",
    policies: diagnostics.reason,
    failed: diagnostics.errors.map((e) => e.policyId),
  };
}

/** Cedar's type check of policies against the schema: each problem as "<policy id>: <message>". */
export function typeCheck(policies: Readonly<Record<string, string>>): string[] {
  const answer = cedar().validate({
    schema: cedarSchema,
    policies: { staticPolicies: { ...policies } },
    validationSettings: { mode: "strict" },
  });
  if (answer.type === "failure") return answer.errors.map((e) => e.message);
  return answer.validationErrors.map((e) => `${e.policyId}: ${e.error.message}`);
}

/** Splits Cedar text into its policies; parse errors as messages. */
export function splitPolicies(text: string): { policies: string[] } | { errors: string[] } {
  const answer = cedar().policySetTextToParts(text);
  if (answer.type === "failure") return { errors: answer.errors.map(describeError(text)) };
  if (answer.policy_templates.length > 0)
    return { errors: ["templates are not supported; write static policies"] };
  return { policies: answer.policies };
}

/** A policy's JSON form (effect, scope, conditions, annotations), for the document's structural rules. */
export function policyJson(text: string): Cedar.PolicyJson {
  const answer = cedar().policyToJson(text);
  if (answer.type === "failure") {
    throw new KeyfleetError("internal", `a parsed policy has no JSON form: ${answer.errors[0]?.message}`);
  }
  return answer.json;
}

/** Does this JSON (a policy's) name a device entity literally? */
export function namesDevice(json: unknown): boolean {
  if (Array.isArray(json)) return json.some(namesDevice);
  if (json === null || typeof json !== "object") return false;
  const o = json as Record<string, unknown>;
  if (o.type === deviceType && typeof o.id === "string") return true;
  return Object.values(o).some(namesDevice);
}

/** The 1-based line of a character offset, for messages. */
export const lineAt = (text: string, offset: number) => text.slice(0, offset).split("\n").length;

function describeError(text: string) {
  return (e: Cedar.DetailedError): string => {
    const at = e.sourceLocations?.[0];
    if (!at) return e.message;
    return `line ${lineAt(text, at.start)}: ${e.message}${at.label ? ` (${at.label})` : ""}`;
  };
}
