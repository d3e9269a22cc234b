import { describe, expect, test } from "vitest";
import {
  commandKinds,
  defaultLifecycleRules,
  deviceStates,
  type Command,
  type CommandKind,
  type DeviceLifecycle,
  type DeviceState,
  type Effect,
  type EvidenceRef,
  type RefusalReason,
  type TransitionContext,
} from "./device-state.js";
import type { CertificateSerial } from "./ids.js";
import { issuanceCommandFor, transition } from "./lifecycle.js";

const now = new Date("2026-06-01T00:00:00Z");
const successor = "5a" as CertificateSerial;
const issued = "7b" as CertificateSerial;

const commands: Record<CommandKind, Command> = {
  issue: { kind: "issue", certificate: issued },
  confirm: { kind: "confirm" },
  rotate: { kind: "rotate", successor },
  commit: { kind: "commit" },
  abort: { kind: "abort" },
  update: { kind: "update" },
  reattest: { kind: "reattest" },
  suspend: { kind: "suspend" },
  resume: { kind: "resume" },
  retire: { kind: "retire" },
  cancel: { kind: "cancel" },
  finalize: { kind: "finalize" },
};

/** Every kind of evidence, the attestation passed: what each command may ask for is there. */
const allEvidence: EvidenceRef[] = [
  { kind: "proof-of-possession", ref: "sig" },
  { kind: "attestation", ref: "ear-1", passed: true },
  { kind: "manifest", ref: "sha256:ab" },
];

function context(overrides: Partial<TransitionContext> = {}): TransitionContext {
  return {
    now,
    actor: "token:t1",
    evidence: allEvidence,
    policyVersion: 3,
    rules: defaultLifecycleRules,
    ...overrides,
  };
}

function device(state: DeviceState, overrides: Partial<DeviceLifecycle> = {}): DeviceLifecycle {
  return {
    state,
    version: 4,
    successor: state === "rotating" ? successor : null,
    // Inside the grace period, so cancel is allowed where the state allows it.
    graceUntil: state === "decommissioning" ? new Date(now.getTime() + 3600_000) : null,
    ...overrides,
  };
}

type Expected = DeviceState | RefusalReason;
const no: RefusalReason = "not-allowed-in-state";

/**
 * The whole state machine, one row per state and one column per command, with every evidence
 * given: the state it moves to, or why it is refused (DESIGN §3's diagram, cell by cell).
 */
const table: Record<DeviceState, Record<CommandKind, Expected>> = {
  // prettier-ignore
  registered: { issue: "provisioned", confirm: no, rotate: no, commit: no, abort: no, update: no, reattest: no, suspend: no, resume: no, retire: "decommissioning", cancel: no, finalize: no },
  // prettier-ignore
  provisioned: { issue: "provisioned", confirm: "active", rotate: no, commit: no, abort: no, update: no, reattest: no, suspend: no, resume: no, retire: "decommissioning", cancel: no, finalize: no },
  // prettier-ignore
  active: { issue: no, confirm: no, rotate: "rotating", commit: no, abort: no, update: "updating", reattest: no, suspend: "suspended", resume: no, retire: "decommissioning", cancel: no, finalize: no },
  // prettier-ignore
  rotating: { issue: no, confirm: no, rotate: no, commit: "active", abort: "active", update: no, reattest: no, suspend: "suspended", resume: no, retire: "decommissioning", cancel: no, finalize: no },
  // prettier-ignore
  updating: { issue: no, confirm: no, rotate: no, commit: no, abort: no, update: no, reattest: "active", suspend: "suspended", resume: no, retire: "decommissioning", cancel: no, finalize: no },
  // prettier-ignore
  suspended: { issue: no, confirm: no, rotate: no, commit: no, abort: no, update: no, reattest: no, suspend: no, resume: "active", retire: "decommissioning", cancel: no, finalize: no },
  // prettier-ignore
  decommissioning: { issue: no, confirm: no, rotate: no, commit: no, abort: no, update: no, reattest: no, suspend: no, resume: no, retire: no, cancel: "suspended", finalize: "decommissioned" },
  // prettier-ignore
  decommissioned: { issue: "terminal-state", confirm: "terminal-state", rotate: "terminal-state", commit: "terminal-state", abort: "terminal-state", update: "terminal-state", reattest: "terminal-state", suspend: "terminal-state", resume: "terminal-state", retire: "terminal-state", cancel: "terminal-state", finalize: "terminal-state" },
};

describe("every (state, command) pair transitions as designed or is refused with its reason", () => {
  const cases = deviceStates.flatMap((state) => commandKinds.map((kind) => [state, kind] as const));
  test.each(cases)("%s + %s", (state, kind) => {
    const expected = table[state][kind];
    const outcome = transition(device(state), commands[kind], context());
    if ((deviceStates as readonly string[]).includes(expected)) {
      expect(outcome).toMatchObject({ ok: true, next: { state: expected, version: 5 } });
    } else {
      expect(outcome).toMatchObject({ ok: false, reason: expected });
      if (!outcome.ok) expect(outcome.message).toMatch(/\S/);
    }
  });

  test("the table covers all eight states and twelve commands", () => {
    expect(Object.keys(table).sort()).toEqual([...deviceStates].sort());
    for (const row of Object.values(table)) expect(Object.keys(row).sort()).toEqual([...commandKinds].sort());
  });
});

const effectsOf = (state: DeviceState, command: Command, ctx = context(), d = device(state)): Effect[] => {
  const outcome = transition(d, command, ctx);
  if (!outcome.ok) throw new Error(`refused: ${outcome.message}`);
  return [...outcome.effects];
};

describe("effects on credentials", () => {
  test("suspend and retire put every credential on hold; resume lifts the hold", () => {
    expect(effectsOf("active", commands.suspend)).toEqual([{ kind: "hold-credentials" }]);
    expect(effectsOf("suspended", commands.retire)).toEqual([{ kind: "hold-credentials" }]);
    expect(effectsOf("suspended", commands.resume)).toEqual([{ kind: "release-credentials" }]);
  });

  test("finalize revokes with cessationOfOperation, or keyCompromise when flagged compromised, and tombstones", () => {
    expect(effectsOf("decommissioning", commands.finalize)).toEqual([
      { kind: "revoke-credentials", reason: "cessationOfOperation" },
      { kind: "tombstone-identity" },
    ]);
    expect(effectsOf("decommissioning", { kind: "finalize", compromised: true })).toEqual([
      { kind: "revoke-credentials", reason: "keyCompromise" },
      { kind: "tombstone-identity" },
    ]);
  });

  test("commit supersedes every credential but the successor; abort revokes the successor", () => {
    expect(effectsOf("rotating", commands.commit)).toEqual([
      { kind: "revoke-all-but", keep: successor, reason: "superseded" },
    ]);
    expect(effectsOf("rotating", commands.abort)).toEqual([
      { kind: "revoke-credential", serial: successor, reason: "cessationOfOperation" },
    ]);
  });

  test("leaving rotating by suspend or retire abandons the successor first", () => {
    for (const kind of ["suspend", "retire"] as const) {
      expect(effectsOf("rotating", commands[kind])).toEqual([
        { kind: "revoke-credential", serial: successor, reason: "cessationOfOperation" },
        { kind: "hold-credentials" },
      ]);
    }
  });

  test("issuing again before the device confirmed supersedes the first certificate", () => {
    expect(effectsOf("provisioned", commands.issue)).toEqual([
      { kind: "revoke-all-but", keep: issued, reason: "superseded" },
    ]);
  });

  test("a failed appraisal after an update suspends the device and holds its credentials", () => {
    const failed = context({ evidence: [{ kind: "attestation", ref: "ear-2", passed: false }] });
    const outcome = transition(device("updating"), commands.reattest, failed);
    expect(outcome).toMatchObject({
      ok: true,
      next: { state: "suspended" },
      effects: [{ kind: "hold-credentials" }],
    });
  });
});

describe("what rides on the device", () => {
  test("rotate records the successor; commit and abort clear it", () => {
    const rotated = transition(device("active"), commands.rotate, context());
    expect(rotated).toMatchObject({ ok: true, next: { state: "rotating", successor } });
    expect(transition(device("rotating"), commands.commit, context())).toMatchObject({
      next: { successor: null },
    });
    expect(transition(device("rotating"), commands.abort, context())).toMatchObject({
      next: { successor: null },
    });
  });

  test("retire starts the grace period from the policy; cancel ends it", () => {
    const retired = transition(device("active"), commands.retire, context());
    const graceUntil = new Date(now.getTime() + defaultLifecycleRules.decommissionGraceSeconds * 1000);
    expect(retired).toMatchObject({ ok: true, next: { graceUntil } });
    expect(transition(device("decommissioning"), commands.cancel, context())).toMatchObject({
      next: { state: "suspended", graceUntil: null },
    });
  });

  test("the record carries actor, reason, evidence, policy version and time", () => {
    const outcome = transition(device("active"), commands.suspend, context({ reason: "stolen van" }));
    expect(outcome).toMatchObject({
      ok: true,
      record: {
        command: "suspend",
        from: "active",
        to: "suspended",
        actor: "token:t1",
        reason: "stolen van",
        evidence: allEvidence,
        policyVersion: 3,
        at: now,
      },
    });
  });
});

describe("refusals", () => {
  test("cancel after the grace period is refused: the device can only be finalized", () => {
    const late = device("decommissioning", { graceUntil: now });
    expect(transition(late, commands.cancel, context())).toMatchObject({
      ok: false,
      reason: "grace-expired",
    });
  });

  test.each([
    ["provisioned", "confirm", "proof-of-possession"],
    ["active", "update", "manifest"],
    ["updating", "reattest", "attestation"],
  ] as const)("%s + %s without %s evidence is refused", (state, kind, evidence) => {
    const outcome = transition(device(state), commands[kind], context({ evidence: [] }));
    expect(outcome).toMatchObject({ ok: false, reason: "evidence-required" });
    if (!outcome.ok) expect(outcome.message).toContain(evidence);
  });

  test("where the policy requires attestation, confirm and resume need a passed one", () => {
    const rules = { ...defaultLifecycleRules, attestationRequired: true };
    const failed: EvidenceRef[] = [
      { kind: "proof-of-possession", ref: "sig" },
      { kind: "attestation", ref: "ear-3", passed: false },
    ];
    for (const [state, kind] of [
      ["provisioned", "confirm"],
      ["suspended", "resume"],
    ] as const) {
      expect(transition(device(state), commands[kind], context({ rules, evidence: failed }))).toMatchObject({
        ok: false,
        reason: "evidence-required",
      });
      expect(transition(device(state), commands[kind], context({ rules }))).toMatchObject({ ok: true });
    }
    // Without the rule, resume needs no attestation.
    expect(transition(device("suspended"), commands.resume, context({ evidence: [] }))).toMatchObject({
      ok: true,
    });
  });

  test("a rotating device with no recorded successor cannot commit", () => {
    const broken = device("rotating", { successor: null });
    expect(transition(broken, commands.commit, context())).toMatchObject({
      ok: false,
      reason: "evidence-required",
    });
  });
});

test("a new certificate is an issue before the device confirmed, a rotation when active, and nothing otherwise", () => {
  const expected: Record<DeviceState, string | undefined> = {
    registered: "issue",
    provisioned: "issue",
    active: "rotate",
    rotating: undefined,
    updating: undefined,
    suspended: undefined,
    decommissioning: undefined,
    decommissioned: undefined,
  };
  for (const state of deviceStates) expect(issuanceCommandFor(state)).toBe(expected[state]);
  // Consistent with the table: where it names a command, the transition takes it.
  for (const state of deviceStates) {
    const kind = issuanceCommandFor(state);
    if (kind) expect(table[state][kind]).not.toBe("not-allowed-in-state");
  }
});
