/**
 * What a device tells the server between enrollments (issue 17 item 5): "what must I do?" (its
 * status) and "I erased my key" (its erase report). Each is signed with the device's operational
 * key over a fresh server nonce and the report's purpose, and comes with the certificate of that
 * key, which may be on hold: a retiring device's credentials are held, and it must still learn that
 * it is to erase. A signature, not a TLS client certificate, because a key in a secure element
 * cannot authenticate node's TLS (src/agent/est-client.ts), and it works the same for every device.
 * The nonce is spent by the report (the erase report spends it in its own transaction), so a
 * replayed report is refused; every refusal is an audit leaf (the route's refusal recorder). The
 * status answer also says when the device's credential is due (the policy's cadence, or an
 * operator's rotation request: registry/rotation-requests.ts), and `rotate` once it is.
 */
import { KeyfleetError, quoted, type Clock, type DeviceState } from "../domain/index.js";
import { readCertificate } from "../pki/index.js";
import { deviceCaller } from "../policy/index.js";
import type { Registry } from "../registry/index.js";
import { verifiesWith } from "./evidence.js";
import type { EnrollmentNonces } from "./nonces.js";

export type ReportPurpose = "status" | "erased";

/** What the device signs: the nonce's UTF-8 octets, then the purpose's ("status" or "erased"). */
export function reportMessage(nonce: string, purpose: ReportPurpose): Uint8Array {
  return new Uint8Array(Buffer.concat([Buffer.from(nonce, "utf8"), Buffer.from(purpose, "utf8")]));
}

export interface SignedReport {
  readonly deviceId: string;
  readonly nonce: string;
  /** The certificate whose key signed, DER. */
  readonly certificate: Uint8Array;
  readonly signature: Uint8Array;
}

/**
 * What a device is to do now: nothing, erase its key store (it is being retired), wait
 * (suspended), or rotate its credential (it is due).
 */
export type DeviceAction = "none" | "erase" | "wait" | "rotate";

export interface DeviceStatus {
  readonly deviceId: string;
  readonly state: DeviceState;
  readonly action: DeviceAction;
  /** Whether the server holds the device's erase report already. */
  readonly erased: boolean;
  /** When the credential it reported with is due for renewal; absent where its state renews nothing. */
  readonly renewAt?: Date | undefined;
}

/** The states in which a device renews its credential (active, or rotating again from its predecessor). */
const renewing: ReadonlySet<DeviceState> = new Set<DeviceState>(["active", "rotating"]);

/** What a device in `state` is to do; `due`: its credential is due for rotation now. */
export function actionFor(state: DeviceState, due = false): DeviceAction {
  switch (state) {
    case "decommissioning":
    case "decommissioned":
      return "erase";
    case "suspended":
      return "wait";
    case "active":
      return due ? "rotate" : "none";
    default:
      return "none";
  }
}

export function deviceReports(deps: {
  readonly registry: Registry;
  readonly nonces: EnrollmentNonces;
  readonly clock: Clock;
}) {
  async function verified(report: SignedReport, purpose: ReportPurpose) {
    const found = await deps.registry.deviceOfReportingCertificate(report.certificate);
    if (found.device.id !== report.deviceId) {
      throw new KeyfleetError(
        "unauthorized",
        `the certificate belongs to device ${quoted(found.device.id)}, not ${quoted(report.deviceId)}`,
        { detail: { credential: "certificate", reason: "other-device" } },
      );
    }
    const key = readCertificate(report.certificate).subjectPublicKeyInfo;
    if (!verifiesWith(key, reportMessage(report.nonce, purpose), report.signature)) {
      throw new KeyfleetError(
        "bad-signature",
        `the ${purpose} report of device ${quoted(report.deviceId)} does not verify with the key of its certificate ${found.serial}: sign nonce ‖ "${purpose}" with it`,
      );
    }
    return found;
  }

  return {
    /**
     * The device's state and what it is to do; spends the nonce. An agent that does not say it
     * knows `rotate` (one from before it) is told `none` instead, and renews at its own time.
     */
    async status(report: SignedReport, knows: { readonly rotate: boolean }): Promise<DeviceStatus> {
      const found = await verified(report, "status");
      await deps.nonces.spendAlone(found.device.id, report.nonce);
      // Signed over a fresh nonce with the new certificate's key: the device holds it. A key in a
      // token cannot show it in a TLS handshake from node, so this is how its use confirms it.
      const device =
        (await deps.registry.confirmCredential(found.device.id, found.serial, deviceCaller(found.device.id), [
          { kind: "proof-of-possession", ref: `signed-status-report:${found.serial}` },
        ])) ?? found.device;
      const schedule = renewing.has(device.state)
        ? await deps.registry.rotationSchedule(device.id, readCertificate(report.certificate))
        : undefined;
      const due = schedule !== undefined && schedule.renewAt.getTime() <= deps.clock.now().getTime();
      const action = actionFor(device.state, due && knows.rotate);
      const erased = action === "erase" && (await deps.registry.hasErased(device.id));
      return { deviceId: device.id, state: device.state, action, erased, renewAt: schedule?.renewAt };
    },

    /** Records the device's erase report (decommissioning devices only), spending its nonce with it. */
    async erased(report: SignedReport) {
      const { device, serial } = await verified(report, "erased");
      return deps.registry.reportErased(
        {
          deviceId: device.id,
          serial,
          signature: report.signature,
          spend: (tx) => deps.nonces.spend(tx, device.id, report.nonce),
        },
        deviceCaller(device.id),
      );
    },
  };
}

export type DeviceReports = ReturnType<typeof deviceReports>;
