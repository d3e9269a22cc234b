/** The registry's public face: register, read and list devices; apply lifecycle commands; read history. */
import { KeyfleetError, quoted, type Command, type EvidenceRef, type Validity } from "../domain/index.js";
import { checkDeviceQuery } from "./device-query.js";
import { authorize, listScope, scopeCovers, type Caller, type Permission } from "../policy/index.js";
import { deviceRepository, lifecycleEventRepository, type DeviceQuery } from "../store/index.js";
import { deviceOf, type Device } from "./device-record.js";
import { confirmCredential } from "./credential-confirmation.js";
import { hasErased, recordEraseReport, type EraseReport } from "./erase-reports.js";
import { changeCertificateStatus, type StatusOptions } from "./certificate-status.js";
import { expireLifecycleTimers } from "./lifecycle-timers.js";
import { rotationSchedule } from "./rotation-requests.js";
import type { StatusRequest } from "../ca/index.js";
import { listGroups } from "./groups.js";
import { deviceOfIdevid, hardwareKeyOf } from "./idevid-trust.js";
import { deviceOfCertificate } from "./operational-certificate.js";
import {
  enrollCertificate,
  issueCertificate,
  type CertificateRequest,
  type EnrollmentTerms,
} from "./issuance.js";
import {
  registerDevice,
  registerDevices,
  type DeviceRegistration,
  type RegistryDeps,
} from "./registration.js";
import {
  applyCommand,
  lifecycleEventOf,
  type ApplyOptions,
  type LifecycleEvent,
  type TransitionResult,
} from "./transitions.js";

export function createRegistry(deps: RegistryDeps) {
  const devices = deviceRepository(deps.database.db);

  /** A device, for a caller who may read it (or, `device.enroll`, a device enrolling: itself). */
  async function get(
    id: string,
    caller: Caller,
    permission: "device.read" | "device.enroll" = "device.read",
  ): Promise<Device> {
    authorize(caller, permission);
    const row = await devices.byId(id);
    if (!row) throw new KeyfleetError("not-found", `no device ${quoted(id)}`);
    authorize(caller, permission, { attributes: row, deviceId: row.id, what: `device ${quoted(id)}` });
    return deviceOf(row);
  }

  return {
    /** Registers a device in state `registered`. */
    register: (input: DeviceRegistration, caller: Caller): Promise<Device> =>
      registerDevice(deps, input, caller),

    /** Registers up to 10,000 devices in one transaction: all, or none. */
    registerMany: (inputs: readonly DeviceRegistration[], caller: Caller): Promise<Device[]> =>
      registerDevices(deps, inputs, caller),

    get: (id: string, caller: Caller, permission?: "device.read" | "device.enroll") =>
      get(id, caller, permission),

    /**
     * Whether `caller` may exercise `permission` on what belongs to this device (null: bound to
     * none, which only an unscoped caller sees); a device that does not exist is in no scope.
     */
    async covers(caller: Caller, permission: Permission, deviceId: string | null): Promise<boolean> {
      authorize(caller, permission);
      if (listScope(caller) === undefined) return true;
      const row = deviceId === null ? undefined : await devices.byId(deviceId);
      return row !== undefined && scopeCovers(caller.scopes, row);
    },

    /** Devices by id matching the filters, inside the caller's scope. */
    async list(options: Omit<DeviceQuery, "scope">, caller: Caller): Promise<Device[]> {
      authorize(caller, "device.read");
      checkDeviceQuery(options);
      return (await devices.list({ ...options, scope: listScope(caller) })).map(deviceOf);
    },

    /** The groups devices name, by (tenant, name), inside the caller's scope, with their device counts. */
    groups: (caller: Caller, options: { after?: string | undefined; limit?: number | undefined } = {}) =>
      listGroups(deps.database, caller, options),

    /** Applies a lifecycle command in one transaction; refused commands change nothing. */
    apply: (
      deviceId: string,
      command: Command,
      caller: Caller,
      options?: ApplyOptions,
    ): Promise<TransitionResult> => applyCommand(deps, deviceId, command, caller, options),

    /**
     * A certificate, authorized here and signed by the authority: for a device (its transition
     * with it, in one transaction), or bound to none (unscoped callers only).
     */
    issue: (request: CertificateRequest, caller: Caller) => issueCertificate(deps, request, caller),

    /**
     * Revokes a certificate (certificateHold: holds one bound to no device), or lifts a hold;
     * asking again for what is already so changes nothing and says so (`changed: false`).
     */
    changeCertificateStatus: (
      serial: string,
      request: StatusRequest,
      caller: Caller,
      options?: StatusOptions,
    ) => changeCertificateStatus(deps, serial, request, caller, options),

    /**
     * A device's own certificate (enrollment): `caller` is the device (deviceCaller), authenticated
     * by the enrollment module; its transition is written with the certificate.
     */
    enroll: (
      request: Omit<CertificateRequest, "deviceId"> & { readonly deviceId: string },
      caller: Caller,
      terms: EnrollmentTerms,
    ) => enrollCertificate(deps, request, caller, terms),

    /**
     * Who a TLS client certificate authenticates (enrollment): a device's good Keyfleet certificate,
     * or the registered IDevID of a device that validates to its manufacturer now; `unauthorized`
     * for anything else.
     */
    async deviceOfClientCertificate(certificate: Uint8Array) {
      const operational = await deviceOfCertificate(deps, certificate);
      if (operational)
        return { kind: "certificate" as const, ...operational, device: deviceOf(operational.device) };
      const row = await deviceOfIdevid(deps, certificate, deps.clock.now());
      return { kind: "idevid" as const, device: deviceOf(row) };
    },

    /**
     * Who a device's report (its status, its erase report) comes from: a Keyfleet certificate of the
     * device, good, on hold (a retiring device's are) or revoked with its device decommissioned,
     * within its validity.
     */
    async deviceOfReportingCertificate(certificate: Uint8Array) {
      const found = await deviceOfCertificate(deps, certificate, "report");
      if (!found) {
        throw new KeyfleetError("unauthorized", "the certificate is not one Keyfleet issued to a device", {
          detail: { credential: "certificate", reason: "unknown" },
        });
      }
      return { ...found, device: deviceOf(found.device) };
    },

    /** Records a decommissioning device's signed report that it erased its key (its finalize's evidence). */
    reportErased: (report: EraseReport, caller: Caller) => recordEraseReport(deps, report, caller),

    /**
     * When the device is due to renew its current certificate (`validity`): the policy's cadence,
     * or an operator's rotation request when sooner (its check-in is told; rotation-requests.ts).
     */
    rotationSchedule: (deviceId: string, validity: Validity) => rotationSchedule(deps, deviceId, validity),

    /** Whether the device has reported that it erased its key. */
    hasErased: (deviceId: string) => hasErased(deps, deviceId),

    /** Device `id`'s hardware identity key (its IDevID's), for a device enrolling with evidence. */
    async hardwareKey(id: string, caller: Caller): Promise<Uint8Array> {
      authorize(caller, "device.enroll");
      const row = await devices.byId(id);
      if (!row) throw new KeyfleetError("not-found", `no device ${quoted(id)}`);
      authorize(caller, "device.enroll", { attributes: row, deviceId: row.id, what: `device ${quoted(id)}` });
      return hardwareKeyOf(deps, row, deps.clock.now());
    },

    /** The device used certificate `serial`: confirms or commits it if its state waits for that. */
    confirmCredential: (deviceId: string, serial: string, caller: Caller, evidence: readonly EvidenceRef[]) =>
      confirmCredential(deps, deviceId, serial, caller, evidence),

    /** Aborts rotations left uncommitted and finalizes decommissionings past their grace (the `lifecycle-timers` task). */
    expireTimers: () => expireLifecycleTimers(deps),

    /** A device's transitions, oldest first, with their evidence. */
    async history(
      deviceId: string,
      caller: Caller,
      options: { after?: string | undefined; limit?: number | undefined } = {},
    ): Promise<{ items: LifecycleEvent[]; next: string | undefined }> {
      await get(deviceId, caller);
      const page = await lifecycleEventRepository(deps.database.db).history(deviceId, options);
      return { items: page.items.map(lifecycleEventOf), next: page.next };
    },
  };
}

export type Registry = ReturnType<typeof createRegistry>;
