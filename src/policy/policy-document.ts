/**
 * The policy document (issue 15): one YAML or JSON file holding the issuance rules and the
 * authorization policies, checked whole before it may become a version. Format `policy/v1`:
 *
 * ```yaml
 * keyfleet: policy/v1
 * description: what this version is for
 * issuance:                      # the first rule whose `when` holds decides a device's certificate
 *   - rule: sensors              # a name: lowercase letters, digits and "-"
 *     when: resource.groups.contains("sensors")   # a Cedar expression (cedar-model.ts); absent: always
 *     profile: device            # the certificate profile (default: device)
 *     validityDays: 90           # the longest validity a certificate may have (default: the profile's)
 *     keyAlgorithms: [p256]      # the device key algorithms allowed (default: the profile's)
 *     attestation: required      # whether issuance needs attestation evidence (default: optional)
 *     rotationDays: 60           # how often the device's credential is to be rotated
 *     expiredReturnDays: 30      # how long after its certificate expired a device may come back with
 *                                # its IDevID alone (after that, only an operator's bootstrap token);
 *                                # absent: any time
 * bindings:                      # roles for OIDC principals whose JWT names none: by sub, or by group
 *   - subject: alice@ops
 *     role: security-officer
 *   - group: emea-operators      # an entry of the JWT's groups claim
 *     role: operator
 *     scopes: { region: [eu-1, eu-2] }
 * authorization: |               # Cedar forbid policies: roles grant, a policy only narrows
 *   @id("critical-needs-officer")
 *   forbid (principal, action == Keyfleet::Action::"device.lifecycle", resource)
 *   when { resource.groups.contains("critical") && principal.role != "security-officer" };
 * ```
 *
 * With no issuance rules every device gets its profile's defaults; with rules, a device no rule
 * matches gets no certificate. Anything that does not parse, does not type-check against the Cedar
 * schema, names a profile or algorithm that does not exist, or permits what no role granted is
 * refused with every problem named, and nothing is applied.
 */
import { Ajv } from "ajv";
import { createRequire } from "node:module";
import { KeyfleetError, quoted } from "../domain/index.js";
import { lineAt, namesDevice, policyJson, splitPolicies, typeCheck } from "./cedar-model.js";
import { roles, type Role } from "./roles.js";
import { maxScopeValues, scopeKeys, scopeValuePattern, type Scopes } from "./scopes.js";

export const policyFormat = "policy/v1";
export const maxPolicyBytes = 256 * 1024;
/** Bounds `policy diff` (a line diff is quadratic in the lines). */
export const maxPolicyLines = 2_000;
const maxRules = 100;
const maxBindings = 1_000;
const maxDays = 3_650;

export interface IssuanceRule {
  readonly rule: string;
  readonly when?: string | undefined;
  readonly profile: string;
  readonly validityDays?: number | undefined;
  readonly keyAlgorithms?: readonly string[] | undefined;
  readonly attestation: "required" | "optional";
  readonly rotationDays?: number | undefined;
  readonly expiredReturnDays?: number | undefined;
}

/** A role for an OIDC principal whose JWT carries no role claim: by its `sub`, or by one of its groups. */
export interface RoleBinding {
  readonly subject?: string | undefined;
  readonly group?: string | undefined;
  readonly role: Role;
  readonly scopes: Scopes;
}

export interface PolicyDocument {
  readonly keyfleet: typeof policyFormat;
  readonly description?: string | undefined;
  readonly issuance: readonly IssuanceRule[];
  readonly bindings: readonly RoleBinding[];
  readonly authorization?: string | undefined;
}

/** What the certificate profiles allow, handed in by whoever knows them (policy knows no profile). */
export type ProfileCatalog = Readonly<
  Record<string, { readonly maxValiditySeconds: number; readonly keyAlgorithms: readonly string[] }>
>;

/** A document that passed every check, with its Cedar policies by id. */
export interface CheckedPolicy {
  readonly document: PolicyDocument;
  /** `rule:<name>` → a permit on cert.issue whose condition is the rule's `when`, in document order. */
  readonly rules: Readonly<Record<string, string>>;
  /** The authorization policies (forbid only) by their `@id`, or `authorization[N]`. */
  readonly forbids: Readonly<Record<string, string>>;
}

const documentSchema = {
  type: "object",
  additionalProperties: false,
  required: ["keyfleet"],
  properties: {
    keyfleet: { const: policyFormat },
    description: { type: "string", maxLength: 1000 },
    issuance: {
      type: "array",
      maxItems: maxRules,
      items: {
        type: "object",
        additionalProperties: false,
        required: ["rule"],
        properties: {
          rule: { type: "string", pattern: "^[a-z0-9][a-z0-9-]{0,62}$" },
          when: { type: "string", minLength: 1, maxLength: 4000 },
          profile: { type: "string", maxLength: 64 },
          validityDays: { type: "integer", minimum: 1, maximum: maxDays },
          keyAlgorithms: {
            type: "array",
            minItems: 1,
            uniqueItems: true,
            items: { type: "string", maxLength: 32 },
          },
          attestation: { enum: ["required", "optional"] },
          rotationDays: { type: "integer", minimum: 1, maximum: maxDays },
          expiredReturnDays: { type: "integer", minimum: 0, maximum: maxDays },
        },
      },
    },
    bindings: {
      type: "array",
      maxItems: maxBindings,
      items: {
        type: "object",
        additionalProperties: false,
        required: ["role"],
        oneOf: [{ required: ["subject"] }, { required: ["group"] }],
        properties: {
          subject: { type: "string", pattern: "^[\\x21-\\x7e]{1,255}$" },
          group: { type: "string", minLength: 1, maxLength: 255 },
          role: { enum: roles },
          scopes: {
            type: "object",
            additionalProperties: false,
            minProperties: 1,
            properties: Object.fromEntries(
              scopeKeys.map((k) => [
                k,
                {
                  type: "array",
                  minItems: 1,
                  maxItems: maxScopeValues,
                  uniqueItems: true,
                  items: { type: "string", pattern: scopeValuePattern.source },
                },
              ]),
            ),
          },
        },
      },
    },
    authorization: { type: "string", maxLength: maxPolicyBytes },
  },
} as const;

const validateShape = new Ajv({ allErrors: true, strict: true, strictRequired: false }).compile(
  documentSchema,
);

/** Checks a document's text whole; `invalid-policy` names every problem found. */
export function checkPolicyDocument(text: string, catalog: ProfileCatalog): CheckedPolicy {
  const document = parseShape(text);
  const problems: string[] = [];
  const rules: Record<string, string> = {};
  const names = new Map<string, string>();
  for (const [i, rule] of document.issuance.entries()) {
    const what = `issuance rule ${quoted(rule.rule)}`;
    const id = `rule:${rule.rule}`;
    if (rules[id] !== undefined) problems.push(`${what} is named twice`);
    problems.push(...catalogProblems(rule, catalog).map((p) => `${what}: ${p}`));
    const compiled = ruleAsCedar(rule);
    if (typeof compiled !== "string") problems.push(`${what}: ${compiled.problem}`);
    else rules[id] = compiled;
    names.set(id, `${what} (issuance[${i}])`);
  }
  const bound = new Set<string>();
  for (const b of document.bindings) {
    const who = b.subject !== undefined ? `subject ${quoted(b.subject)}` : `group ${quoted(b.group!)}`;
    if (bound.has(who)) problems.push(`bindings: ${who} is bound twice`);
    bound.add(who);
  }
  const forbids: Record<string, string> = {};
  if (document.authorization !== undefined) {
    const split = splitPolicies(document.authorization);
    if ("errors" in split) problems.push(...split.errors.map((e) => `authorization: ${e}`));
    else
      for (const [i, text] of split.policies.entries()) {
        const json = policyJson(text);
        const id = json.annotations?.id ?? `authorization[${i + 1}]`;
        const what = `authorization policy ${quoted(id)}`;
        if (forbids[id] !== undefined || rules[id] !== undefined)
          problems.push(`${what}: the id is used twice`);
        if (json.effect !== "forbid") {
          problems.push(`${what} is a permit: roles grant, a policy only narrows (write forbid policies)`);
        }
        if (namesDevice(json))
          problems.push(`${what} names a device by id: name devices by their attributes`);
        forbids[id] = text;
        names.set(id, what);
      }
  }
  // Every policy that parsed is type-checked, so one refusal names all the document's problems.
  for (const p of typeCheck({ ...rules, ...forbids })) {
    const id = p.slice(0, p.indexOf(": "));
    problems.push(names.has(id) ? `${names.get(id)}: ${p.slice(id.length + 2)}` : p);
  }
  if (problems.length > 0) refuse(problems);
  return { document, rules, forbids };
}

function parseShape(text: string): PolicyDocument {
  if (Buffer.byteLength(text, "utf8") > maxPolicyBytes) {
    refuse([`the document is larger than ${maxPolicyBytes / 1024} KiB`]);
  }
  if (text.split("\n").length > maxPolicyLines)
    refuse([`the document has more than ${maxPolicyLines} lines`]);
  const { parseDocument } = createRequire(import.meta.url)("yaml") as typeof import("yaml");
  const parsed = parseDocument(text, { uniqueKeys: true, prettyErrors: false });
  if (parsed.errors.length > 0) {
    refuse(parsed.errors.map((e) => `line ${lineAt(text, e.pos[0])}: ${e.message.split("\n")[0]}`));
  }
  const value: unknown = parsed.toJS({ maxAliasCount: 100 });
  if (!validateShape(value)) {
    refuse(
      (validateShape.errors ?? []).map((e) => {
        const where = e.instancePath === "" ? "the document" : e.instancePath.slice(1).replaceAll("/", ".");
        const extra =
          e.keyword === "additionalProperties"
            ? ` (${quoted(String(e.params.additionalProperty))})`
            : e.keyword === "const" || e.keyword === "enum"
              ? ` (${JSON.stringify(e.params.allowedValue ?? e.params.allowedValues)})`
              : "";
        return `${where} ${e.message ?? "is invalid"}${extra}`;
      }),
    );
  }
  const shape = value as {
    keyfleet: typeof policyFormat;
    description?: string;
    issuance?: Array<Omit<IssuanceRule, "profile" | "attestation"> & Partial<IssuanceRule>>;
    bindings?: Array<Omit<RoleBinding, "scopes"> & { scopes?: Scopes }>;
    authorization?: string;
  };
  return {
    keyfleet: shape.keyfleet,
    description: shape.description,
    issuance: (shape.issuance ?? []).map((r) => ({
      ...r,
      profile: r.profile ?? "device",
      attestation: r.attestation ?? "optional",
    })),
    bindings: (shape.bindings ?? []).map((b) => ({ ...b, scopes: b.scopes ?? {} })),
    authorization: shape.authorization,
  };
}

function catalogProblems(rule: IssuanceRule, catalog: ProfileCatalog): string[] {
  const profile = catalog[rule.profile];
  if (!profile) return [`no profile ${quoted(rule.profile)}; use one of ${Object.keys(catalog).join(", ")}`];
  const problems: string[] = [];
  const maxDaysOfProfile = Math.floor(profile.maxValiditySeconds / 86_400);
  if (rule.validityDays !== undefined && rule.validityDays > maxDaysOfProfile) {
    problems.push(
      `validityDays ${rule.validityDays} is longer than profile "${rule.profile}" allows (${maxDaysOfProfile})`,
    );
  }
  for (const alg of rule.keyAlgorithms ?? []) {
    if (!profile.keyAlgorithms.includes(alg)) {
      problems.push(
        `profile "${rule.profile}" certifies no ${quoted(alg)} keys; use ${profile.keyAlgorithms.join(", ")}`,
      );
    }
  }
  return problems;
}

/** The rule as one Cedar permit on cert.issue; its `when` must be one expression and nothing more. */
function ruleAsCedar(rule: IssuanceRule): string | { problem: string } {
  const condition = rule.when === undefined ? "" : ` when { ${rule.when} }`;
  const text = `permit (principal, action == Keyfleet::Action::"cert.issue", resource)${condition};`;
  const split = splitPolicies(text);
  if ("errors" in split) return { problem: `when: ${split.errors[0]!.replace(/^line \d+: /, "")}` };
  const json = split.policies.length === 1 ? policyJson(split.policies[0]!) : undefined;
  if (
    !json ||
    json.effect !== "permit" ||
    json.principal.op !== "All" ||
    json.resource.op !== "All" ||
    json.action.op !== "==" ||
    Object.keys(json.annotations ?? {}).length > 0
  ) {
    return { problem: "when must be one Cedar expression" };
  }
  if (namesDevice(json)) return { problem: "when names a device by id: name devices by their attributes" };
  return text;
}

function refuse(problems: string[]): never {
  const shown = problems.slice(0, 5).join("; ");
  const more = problems.length > 5 ? `; and ${problems.length - 5} more` : "";
  throw new KeyfleetError("invalid-policy", `the policy is refused: ${shown}${more}`, {
    detail: { problems: problems.slice(0, 50) },
  });
}
