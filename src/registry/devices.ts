/**
 * Registering devices: the hardware identity the CA binds certificates to. The lifecycle state
 * machine, groups and bulk import arrive with the registry issue; this is the record they extend.
 */
import { randomUUID } from "node:crypto";
import { KeyfleetError } from "../domain/index.js";
export { deviceIdPattern } from "../domain/index.js";
import { checkDeviceSerial, idevidDer } from "../ca/index.js";
import type { DeviceRepository, DeviceRow } from "../store/index.js";

export interface DeviceRegistration {
  readonly serialNumber: string;
  readonly model?: string | undefined;
  readonly manufacturer?: string | undefined;
  readonly tenant?: string | undefined;
  readonly region?: string | undefined;
  /** The manufacturer's IDevID certificate, DER or PEM. */
  readonly idevid?: Uint8Array | string | undefined;
}

export interface Device {
  readonly id: string;
  readonly serialNumber: string;
  readonly model: string | null;
  readonly manufacturer: string | null;
  readonly tenant: string;
  readonly region: string | null;
  readonly state: string;
  readonly hasIdevid: boolean;
  readonly version: number;
  readonly createdAt: Date;
}

// Printable ASCII, not starting or ending with a space: " X" and "X" must not be two devices.
const printable = /^(?! )[\x20-\x7e]{1,128}(?<! )$/;

/** Every text field of a registration, checked alike (the IDevID is checked as a certificate). */
function checkTextFields(input: DeviceRegistration): void {
  for (const [field, value] of Object.entries({
    serial: input.serialNumber,
    model: input.model,
    manufacturer: input.manufacturer,
    tenant: input.tenant,
    region: input.region,
  })) {
    if (value !== undefined && !printable.test(value)) {
      throw new KeyfleetError(
        "malformed-request",
        `device ${field} must be 1–128 printable ASCII characters, without leading or trailing spaces`,
      );
    }
  }
}

export function deviceService(devices: DeviceRepository) {
  return {
    async register(input: DeviceRegistration): Promise<Device> {
      checkTextFields(input);
      checkDeviceSerial(input.serialNumber);
      const idevid = input.idevid === undefined ? null : idevidDer(input.idevid);
      return deviceOf(
        await devices.insert({
          id: randomUUID(),
          serial_number: input.serialNumber,
          model: input.model ?? null,
          manufacturer: input.manufacturer ?? null,
          tenant: input.tenant ?? "default",
          region: input.region ?? null,
          idevid,
        }),
      );
    },

    async get(id: string): Promise<Device> {
      const row = await devices.byId(id);
      if (!row) throw new KeyfleetError("not-found", `no device "${id}"`);
      return deviceOf(row);
    },

    async list(options: { after?: string; limit?: number }): Promise<Device[]> {
      return (await devices.list(options)).map(deviceOf);
    },
  };
}

export type DeviceService = ReturnType<typeof deviceService>;

function deviceOf(row: DeviceRow): Device {
  return {
    id: row.id,
    serialNumber: row.serial_number,
    model: row.model,
    manufacturer: row.manufacturer,
    tenant: row.tenant,
    region: row.region,
    state: row.state,
    hasIdevid: row.idevid !== null,
    version: row.version,
    createdAt: row.created_at,
  };
}
