/**
 * Registering a device: its hardware identity, checked (text fields, a serial a certificate can
 * carry, an IDevID that parses, no tombstoned identity) and written with its audit leaf and its
 * outbox event in one transaction.
 */
import { randomUUID } from "node:crypto";
import type { AuditLog } from "../audit/index.js";
import { checkDeviceSerial, idevidDer, type IssueRequest, type IssuedCertificate } from "../ca/index.js";
import { KeyfleetError, quoted, type Clock } from "../domain/index.js";
import type { Outbox } from "../events/index.js";
import { authorize, type Caller } from "../policy/index.js";
import { deviceRepository, tombstoneRepository, type Database } from "../store/index.js";
import { deviceOf, type Device } from "./device-record.js";
import { hardwareIdentities, refuseTombstoned } from "./hardware-identity.js";

export interface DeviceRegistration {
  readonly serialNumber: string;
  readonly model?: string | undefined;
  readonly manufacturer?: string | undefined;
  readonly tenant?: string | undefined;
  readonly region?: string | undefined;
  /** The manufacturer's IDevID certificate, DER or PEM. */
  readonly idevid?: Uint8Array | string | undefined;
}

export interface RegistryDeps {
  readonly database: Database;
  readonly clock: Clock;
  readonly audit: AuditLog;
  readonly outbox: Outbox;
  /** The authority's signing of an authorized order. */
  readonly issue: (order: IssueRequest) => Promise<IssuedCertificate>;
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

export async function registerDevice(
  deps: RegistryDeps,
  input: DeviceRegistration,
  caller: Caller,
): Promise<Device> {
  const tenant = input.tenant ?? "default";
  const region = input.region ?? null;
  authorize(caller, "device.register", {
    attributes: { tenant, region },
    what: `tenant ${quoted(tenant)}, region ${quoted(region ?? "none")}`,
    creating: true,
  });
  checkTextFields(input);
  checkDeviceSerial(input.serialNumber);
  const idevid = input.idevid === undefined ? null : idevidDer(input.idevid);
  const identities = hardwareIdentities(input.serialNumber, idevid);
  return deps.database.transaction(async (tx) => {
    await refuseTombstoned(tombstoneRepository(tx), identities);
    const device = deviceOf(
      await deviceRepository(tx).insert({
        id: randomUUID(),
        serial_number: input.serialNumber,
        model: input.model ?? null,
        manufacturer: input.manufacturer ?? null,
        tenant,
        region,
        idevid,
      }),
    );
    const facts = {
      device: device.id,
      serialNumber: device.serialNumber,
      model: device.model,
      manufacturer: device.manufacturer,
      tenant: device.tenant,
      region: device.region,
      idevidSha256: identities.find((i) => i.kind === "idevid-sha256")?.value ?? null,
    };
    const subject = `device:${device.id}`;
    const [position] = await deps.audit.append(tx, [
      { type: "device.registered", actor: caller.actor, subject, details: facts },
    ]);
    await deps.outbox.publish(tx, [
      { position: position!, type: "device.registered", subject, payload: facts },
    ]);
    return device;
  });
}
