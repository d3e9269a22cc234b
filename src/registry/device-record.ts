/** The registry's device, as services and routes see it (camelCase, typed state), from its row. */
import type { CertificateSerial, DeviceLifecycle, DeviceState } from "../domain/index.js";
import type { PolicyDevice } from "../policy/index.js";
import type { DeviceRow } from "../store/index.js";

export interface Device {
  readonly id: string;
  readonly serialNumber: string;
  readonly model: string | null;
  readonly manufacturer: string | null;
  readonly tenant: string;
  readonly region: string | null;
  readonly state: DeviceState;
  readonly hasIdevid: boolean;
  readonly firmwareVersion: string | null;
  readonly groups: readonly string[];
  readonly labels: Readonly<Record<string, string>>;
  /** Compare-and-set version (the API's ETag): every transition adds one. */
  readonly version: number;
  /** While rotating: the successor certificate's serial. */
  readonly successor: string | null;
  /** While decommissioning: until when `cancel` is allowed. */
  readonly graceUntil: Date | null;
  readonly createdAt: Date;
  readonly updatedAt: Date;
}

export function deviceOf(row: DeviceRow): Device {
  return {
    id: row.id,
    serialNumber: row.serial_number,
    model: row.model,
    manufacturer: row.manufacturer,
    tenant: row.tenant,
    region: row.region,
    state: row.state,
    hasIdevid: row.idevid !== null,
    firmwareVersion: row.firmware_version,
    groups: row.groups,
    labels: row.labels,
    version: row.version,
    successor: row.successor_serial,
    graceUntil: row.grace_until,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

/** The device as a policy sees it (cedar-model.ts). */
export function policyDeviceOf(row: DeviceRow): PolicyDevice {
  return {
    tenant: row.tenant,
    region: row.region,
    groups: row.groups,
    labels: row.labels,
    model: row.model,
    manufacturer: row.manufacturer,
    firmwareVersion: row.firmware_version,
    state: row.state,
  };
}

export function lifecycleOf(row: DeviceRow): DeviceLifecycle {
  return {
    state: row.state,
    version: row.version,
    successor: row.successor_serial as CertificateSerial | null,
    graceUntil: row.grace_until,
  };
}

/** A device as JSON (API and CLI): dates as RFC 3339. */
export function deviceJson(d: Device) {
  return {
    ...d,
    graceUntil: d.graceUntil?.toISOString() ?? null,
    createdAt: d.createdAt.toISOString(),
    updatedAt: d.updatedAt.toISOString(),
  };
}
