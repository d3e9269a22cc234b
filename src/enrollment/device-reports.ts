/**
 * What a device tells the server between enrollments (issue 17 item 5): "what must I do?" (its
 * status) and "I erased my key" (its erase report). Each is signed with the device's operational
 * key over a fresh server nonce and the report's purpose, and comes with the certificate of that
 * key, which may be on hold: a retiring device's credentials are held, and it must still learn that
 * it is to erase. A signature, not a TLS client certificate, because a key in a secure element
 * cannot authenticate node's TLS (src/agent/est-client.ts), and it works the same for every device.
 * The nonce is spent by the report (the erase report spends it in its own transaction), so a
 * replayed report is refused; every refusal is an audit leaf (the route's refusal recorder).
 */
import { KeyfleetError, quoted, type DeviceState } from "../domain/index.js";
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

/** What a device is to do now: nothing, erase its key store (it is being retired), or wait (suspended). */
export type DeviceAction = "none" | "erase" | "wait";

export interface DeviceStatus {
  readonly deviceId: string;
  readonly state: DeviceState;
  readonly action: DeviceAction;
  /** Whether the server holds the device's erase report already. */
  readonly erased: boolean;
}

export function actionFor(state: DeviceState): DeviceAction {
  switch (state) {
    case "decommissioning":
    case "decommissioned":
      return "erase";
    case "suspended":
      return "wait";
    default:
      return "none";
  }
}

export function deviceReports(deps: { readonly registry: Registry; readonly nonces: EnrollmentNonces }) {
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
    /** The device's state and what it is to do; spends the nonce. */
    async status(report: SignedReport): Promise<DeviceStatus> {
      const { device } = await verified(report, "status");
      await deps.nonces.spendAlone(device.id, report.nonce);
      const action = actionFor(device.state);
      const erased = action === "erase" && (await deps.registry.hasErased(device.id));
      return { deviceId: device.id, state: device.state, action, erased };
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
