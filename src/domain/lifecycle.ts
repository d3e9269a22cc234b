/**
 * The device lifecycle as one pure function (DESIGN §3): a device, a command and its context in;
 * the next state with its effects on credentials, or a refusal with a named reason, out. The
 * registry writes what this returns; nothing else decides a device's state.
 */
import type {
  Command,
  DeviceLifecycle,
  DeviceState,
  Effect,
  EvidenceRef,
  Outcome,
  RefusalReason,
  TransitionContext,
} from "./device-state.js";

export function transition(device: DeviceLifecycle, command: Command, ctx: TransitionContext): Outcome {
  if (device.state === "decommissioned") {
    return refuse("terminal-state", `the device is decommissioned; nothing changes it any more`);
  }
  const only = (...states: DeviceState[]) =>
    states.includes(device.state)
      ? undefined
      : refuse(
          "not-allowed-in-state",
          `${command.kind} applies to a device that is ${states.join(" or ")}; this one is ${device.state}`,
        );
  const to = (state: DeviceState, effects: Effect[], changes: Partial<DeviceLifecycle> = {}) =>
    next(device, command, ctx, state, effects, changes);

  switch (command.kind) {
    case "issue":
      // Issued again before the device confirmed (it lost the first): the earlier one is superseded.
      if (device.state === "provisioned") {
        return to("provisioned", [
          { kind: "revoke-all-but", keep: command.certificate, reason: "superseded" },
        ]);
      }
      return only("registered") ?? to("provisioned", []);
    case "confirm":
      return (
        only("provisioned") ??
        needs(ctx, "proof-of-possession", "the device's proof that it holds the certificate's key") ??
        attested(ctx) ??
        to("active", [])
      );
    case "rotate":
      return only("active") ?? to("rotating", [], { successor: command.successor });
    case "commit": {
      const refused = only("rotating");
      if (refused) return refused;
      if (device.successor === null) return missing("certificate", "the successor credential to commit");
      return to("active", [{ kind: "revoke-all-but", keep: device.successor, reason: "superseded" }], {
        successor: null,
      });
    }
    case "abort":
      return only("rotating") ?? to("active", abandonSuccessor(device), { successor: null });
    case "update":
      return (
        only("active") ??
        needs(ctx, "manifest", "the digest of a signed firmware manifest") ??
        to("updating", [])
      );
    case "reattest": {
      const refused = only("updating");
      if (refused) return refused;
      const appraisal = ctx.evidence.find((e) => e.kind === "attestation");
      if (!appraisal) return missing("attestation", "an attestation result of the updated firmware");
      // A failed appraisal suspends the device (DESIGN §3, updating).
      return appraisal.passed === true ? to("active", []) : to("suspended", [{ kind: "hold-credentials" }]);
    }
    case "suspend":
      return (
        only("active", "rotating", "updating") ??
        to("suspended", [...abandonSuccessor(device), { kind: "hold-credentials" }], { successor: null })
      );
    case "resume":
      return only("suspended") ?? attested(ctx) ?? to("active", [{ kind: "release-credentials" }]);
    case "retire": {
      if (device.state === "decommissioning") {
        return refuse("not-allowed-in-state", "the device is already decommissioning");
      }
      const graceUntil = new Date(ctx.now.getTime() + ctx.rules.decommissionGraceSeconds * 1000);
      return to("decommissioning", [...abandonSuccessor(device), { kind: "hold-credentials" }], {
        successor: null,
        graceUntil,
      });
    }
    case "cancel": {
      const refused = only("decommissioning");
      if (refused) return refused;
      if (device.graceUntil !== null && ctx.now.getTime() >= device.graceUntil.getTime()) {
        return refuse(
          "grace-expired",
          `the decommissioning grace period ended at ${device.graceUntil.toISOString()}; the device can only be finalized`,
        );
      }
      return to("suspended", [], { graceUntil: null });
    }
    case "finalize": {
      const reason = command.compromised === true ? "keyCompromise" : "cessationOfOperation";
      return (
        only("decommissioning") ??
        to("decommissioned", [{ kind: "revoke-credentials", reason }, { kind: "tombstone-identity" }], {
          graceUntil: null,
        })
      );
    }
    default: {
      const unhandled: never = command;
      throw new TypeError(`unhandled lifecycle command ${JSON.stringify(unhandled)}`);
    }
  }
}

/** A rotation in flight when the device leaves `rotating` another way: its successor is revoked. */
function abandonSuccessor(device: DeviceLifecycle): Effect[] {
  return device.state === "rotating" && device.successor !== null
    ? [{ kind: "revoke-credential", serial: device.successor, reason: "cessationOfOperation" }]
    : [];
}

function needs(ctx: TransitionContext, kind: EvidenceRef["kind"], what: string): Outcome | undefined {
  return ctx.evidence.some((e) => e.kind === kind) ? undefined : missing(kind, what);
}

/** Where the policy asks for attestation: a passed attestation result among the evidence. */
function attested(ctx: TransitionContext): Outcome | undefined {
  if (!ctx.rules.attestationRequired) return undefined;
  return ctx.evidence.some((e) => e.kind === "attestation" && e.passed === true)
    ? undefined
    : missing("attestation", "a passed attestation result (the policy in force requires one)");
}

function missing(kind: EvidenceRef["kind"], what: string): Outcome {
  return refuse("evidence-required", `this transition needs ${kind} evidence: ${what}`);
}

function refuse(reason: RefusalReason, message: string): Outcome {
  return { ok: false, reason, message };
}

function next(
  device: DeviceLifecycle,
  command: Command,
  ctx: TransitionContext,
  state: DeviceState,
  effects: Effect[],
  changes: Partial<DeviceLifecycle>,
): Outcome {
  return {
    ok: true,
    next: { ...device, ...changes, state, version: device.version + 1 },
    effects,
    record: {
      command: command.kind,
      from: device.state,
      to: state,
      actor: ctx.actor,
      reason: ctx.reason ?? null,
      evidence: ctx.evidence,
      policyVersion: ctx.policyVersion,
      at: ctx.now,
    },
  };
}

/**
 * What a new certificate for a device in `state` is: its first (or, before it confirmed, its
 * replacement: `issue`), or the successor of an active device's credential (`rotate`); undefined
 * when the device may get none now (a rotation in flight, an update, suspended, retiring, retired).
 */
export function issuanceCommandFor(state: DeviceState): "issue" | "rotate" | undefined {
  switch (state) {
    case "registered":
    case "provisioned":
      return "issue";
    case "active":
      return "rotate";
    default:
      return undefined;
  }
}
