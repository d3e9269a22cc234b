import { describe, expect, it } from "vitest";
import { isKeyfleetError, type KeyfleetError } from "../domain/index.js";
import { profileCatalog } from "../registry/profile-catalog.js";
import { ActivePolicy } from "./active-policy.js";
import { operatorCaller, type Caller } from "./authorize.js";
import type { PolicyDevice } from "./cedar-model.js";
import { unifiedDiff } from "./line-diff.js";
import { checkPolicyDocument } from "./policy-document.js";

const check = (text: string) => checkPolicyDocument(text, profileCatalog);

function refusal(text: string): KeyfleetError {
  try {
    check(text);
  } catch (e) {
    if (isKeyfleetError(e, "invalid-policy")) return e;
    throw e;
  }
  throw new Error("the document was accepted");
}

const sensor: PolicyDevice = {
  tenant: "acme",
  region: "eu-1",
  groups: ["sensors"],
  labels: { site: "lab" },
  model: "m1",
  manufacturer: "Acme",
  firmwareVersion: "1.0.0",
  state: "registered",
};
const admin = operatorCaller("cli:test");
const operator: Caller = { actor: "token:op", role: "operator", scopes: {} };

const document = `
keyfleet: policy/v1
description: two rules and one restriction
issuance:
  - rule: lab-sensors
    when: resource.groups.contains("sensors") && resource.hasTag("site") && resource.getTag("site") == "lab"
    validityDays: 30
    keyAlgorithms: [p256]
    rotationDays: 20
  - rule: everything-else
    validityDays: 365
authorization: |
  @id("critical-needs-officer")
  forbid (principal, action == Keyfleet::Action::"device.lifecycle", resource)
  when { resource.groups.contains("critical") && principal.role != "security-officer" };
`;

describe("policy documents", () => {
  it("accepts a document with rules and a forbid, in YAML or JSON", () => {
    const checked = check(document);
    expect(Object.keys(checked.rules)).toEqual(["rule:lab-sensors", "rule:everything-else"]);
    expect(Object.keys(checked.forbids)).toEqual(["critical-needs-officer"]);
    expect(checked.document.issuance[1]).toMatchObject({ profile: "device", attestation: "optional" });
    expect(
      check(JSON.stringify({ keyfleet: "policy/v1", issuance: [{ rule: "all" }] })).document.issuance,
    ).toHaveLength(1);
  });

  it.each([
    ["not YAML", "keyfleet: [", /line \d+/],
    ["another format", "keyfleet: policy/v2", /keyfleet must be equal to constant \("policy\/v1"\)/],
    ["an unknown field", "keyfleet: policy/v1\nrules: []", /must NOT have additional properties \("rules"\)/],
    ["a key twice", "keyfleet: policy/v1\nkeyfleet: policy/v1", /line 2/],
    [
      "a bad rule name",
      "keyfleet: policy/v1\nissuance: [{rule: Bad}]",
      /issuance\.0\.rule must match pattern/,
    ],
    [
      "a validity of 0",
      "keyfleet: policy/v1\nissuance: [{rule: a, validityDays: 0}]",
      /validityDays must be >= 1/,
    ],
    [
      "an unknown profile",
      "keyfleet: policy/v1\nissuance: [{rule: a, profile: root-ca}]",
      /no profile "root-ca"; use one of device/,
    ],
    [
      "an algorithm the profile does not certify",
      "keyfleet: policy/v1\nissuance: [{rule: a, keyAlgorithms: [p521]}]",
      /certifies no "p521" keys/,
    ],
    [
      "a validity past the profile's",
      "keyfleet: policy/v1\nissuance: [{rule: a, validityDays: 3650}]",
      /longer than profile "device" allows/,
    ],
    [
      "a rule named twice",
      "keyfleet: policy/v1\nissuance: [{rule: a}, {rule: a}]",
      /issuance rule "a" is named twice/,
    ],
    [
      "a when that is not Cedar",
      "keyfleet: policy/v1\nissuance: [{rule: a, when: 'resource.groups.contains('}]",
      /issuance rule "a": when:/,
    ],
    [
      "a when that does not type-check",
      "keyfleet: policy/v1\nissuance: [{rule: a, when: 'resource.tenant == 1'}]",
      /issuance rule "a" \(issuance\[0\]\): .*Long and String/,
    ],
    [
      "a when on an attribute that does not exist",
      "keyfleet: policy/v1\nissuance: [{rule: a, when: 'resource.owner == \"x\"'}]",
      /attribute `owner` on entity type `Keyfleet::Device` not found/,
    ],
    [
      "a tag read without hasTag",
      'keyfleet: policy/v1\nissuance: [{rule: a, when: \'resource.getTag("site") == "x"\'}]',
      /unable to guarantee safety of access to tag/,
    ],
    [
      "a when that breaks out of its policy",
      "keyfleet: policy/v1\nissuance: [{rule: a, when: 'true }; permit (principal, action, resource) when { true'}]",
      /when must be one Cedar expression/,
    ],
    [
      "a permit in authorization",
      "keyfleet: policy/v1\nauthorization: 'permit (principal, action, resource);'",
      /is a permit: roles grant, a policy only narrows/,
    ],
    [
      "a device named by id",
      `keyfleet: policy/v1\nauthorization: 'forbid (principal, action, resource == Keyfleet::Device::"d1");'`,
      /names a device by id/,
    ],
    [
      "an action Keyfleet does not have",
      `keyfleet: policy/v1\nauthorization: 'forbid (principal, action == Keyfleet::Action::"ca.manage", resource);'`,
      /ca\.manage/,
    ],
    [
      "a binding without subject or group",
      "keyfleet: policy/v1\nbindings: [{role: operator}]",
      /bindings\.0 must match exactly one schema in oneOf/,
    ],
    [
      "a binding with both",
      "keyfleet: policy/v1\nbindings: [{subject: a, group: b, role: operator}]",
      /bindings\.0 must match exactly one schema in oneOf/,
    ],
    [
      "a binding to a role that does not exist",
      "keyfleet: policy/v1\nbindings: [{subject: a, role: root}]",
      /bindings\.0\.role must be equal to one of the allowed values/,
    ],
    [
      "a binding scoped by a key scopes do not have",
      "keyfleet: policy/v1\nbindings: [{subject: a, role: operator, scopes: {site: [x]}}]",
      /bindings\.0\.scopes must NOT have additional properties \("site"\)/,
    ],
    [
      "a binding with an empty scope",
      "keyfleet: policy/v1\nbindings: [{subject: a, role: operator, scopes: {tenant: []}}]",
      /bindings\.0\.scopes\.tenant must NOT have fewer than 1 items/,
    ],
    [
      "a subject bound twice",
      "keyfleet: policy/v1\nbindings: [{subject: a, role: operator}, {subject: a, role: viewer}]",
      /bindings: subject "a" is bound twice/,
    ],
    [
      "Cedar that does not parse",
      "keyfleet: policy/v1\nauthorization: 'forbid (principal, action, resource'",
      /authorization: line 1/,
    ],
  ])("refuses %s, naming the problem", (_what, text, message) => {
    expect(refusal(text).message).toMatch(message);
  });

  it("names every problem of a document, not only the first", () => {
    const e = refusal(
      "keyfleet: policy/v1\nissuance: [{rule: a, profile: nope}, {rule: b, keyAlgorithms: [p521]}]",
    );
    expect(e.detail?.problems).toHaveLength(2);
  });

  it("refuses a document over its size bound", () => {
    expect(refusal(`keyfleet: policy/v1\ndescription: x\n${"#\n".repeat(2_001)}`).message).toMatch(
      /more than 2000 lines/,
    );
  });
});

describe("a policy in force", () => {
  const policy = new ActivePolicy(3, check(document));

  it("picks the first rule that holds, and its terms", () => {
    expect(policy.issuance(admin, sensor, "issue", "device")).toMatchObject({
      policyVersion: 3,
      rule: "lab-sensors",
      maxValiditySeconds: 30 * 86_400,
      keyAlgorithms: ["p256"],
      rotationDays: 20,
    });
    const other = { ...sensor, labels: {} };
    expect(policy.issuance(admin, other, "issue", "device").rule).toBe("everything-else");
  });

  it("refuses a device no rule holds for", () => {
    const strict = new ActivePolicy(
      4,
      check("keyfleet: policy/v1\nissuance: [{rule: a, when: 'resource.tenant == \"acme\"'}]"),
    );
    expect(() => strict.issuance(admin, { ...sensor, tenant: "other" }, "issue", `device "x"`)).toThrow(
      /policy version 4 has no issuance rule for device "x"/,
    );
  });

  it("forbids what its authorization policies forbid, and nothing else", () => {
    const critical = { ...sensor, groups: ["critical"] };
    expect(() => policy.check(operator, "device.lifecycle", critical, "suspend", `device "d"`)).toThrow(
      /policy version 3 forbids suspend for device "d" \("critical-needs-officer"\)/,
    );
    const officer: Caller = { ...operator, role: "security-officer" };
    expect(() => policy.check(officer, "device.lifecycle", critical, "suspend", "d")).not.toThrow();
    expect(() => policy.check(operator, "device.lifecycle", sensor, "suspend", "d")).not.toThrow();
    expect(() => policy.check(operator, "cert.issue", critical, "issue", "d")).not.toThrow();
  });

  it("remembers a decision, and still decides by what the request shows", () => {
    const critical = { ...sensor, groups: ["critical"] };
    for (let i = 0; i < 3; i++) {
      expect(() => policy.check(operator, "device.lifecycle", critical, "suspend", "d")).toThrow(/forbids/);
      expect(() => policy.check(operator, "device.lifecycle", sensor, "suspend", "d")).not.toThrow();
    }
  });

  it("binds roles to OIDC subjects and groups: the subject's binding first, then the first group's", () => {
    const bound = new ActivePolicy(
      5,
      check(`keyfleet: policy/v1
bindings:
  - group: emea
    role: operator
    scopes: { region: [eu-1] }
  - subject: alice
    role: security-officer
  - group: auditors
    role: auditor
`),
    );
    expect(bound.roleFor("alice", ["emea"])).toMatchObject({ role: "security-officer", scopes: {} });
    expect(bound.roleFor("bob", ["auditors", "emea"])).toMatchObject({
      role: "operator",
      scopes: { region: ["eu-1"] },
    });
    expect(bound.roleFor("carol", ["sales"])).toBeUndefined();
  });

  it("under the built-in version (no document), forbids nothing and lets the profile decide", () => {
    const builtIn = new ActivePolicy(0, undefined);
    expect(() => builtIn.check(operator, "device.lifecycle", sensor, "suspend", "d")).not.toThrow();
    expect(builtIn.issuance(admin, sensor, "issue", "d")).toMatchObject({
      policyVersion: 0,
      rule: null,
      profile: undefined,
    });
  });
});

describe("policy diff", () => {
  it("prints a unified diff with context, and nothing for equal texts", () => {
    const a = "a\nb\nc\nd\ne\nf\ng\nh\n";
    const b = "a\nb\nc\nD\ne\nf\ng\nh\ni\n";
    expect(unifiedDiff(a, b, ["v1", "v2"])).toBe(
      [
        "--- v1",
        "+++ v2",
        "@@ -1,9 +1,10 @@",
        " a",
        " b",
        " c",
        "-d",
        "+D",
        " e",
        " f",
        " g",
        " h",
        "+i",
        " ",
        "",
      ].join("\n"),
    );
    expect(unifiedDiff(a, a, ["v1", "v1"])).toBe("");
  });
});
