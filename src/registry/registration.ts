/**
 * Registering a device: its hardware identity, checked (text fields, a serial a certificate can
 * carry, an IDevID that parses and validates) and written with its audit leaf and its outbox event
 * in one transaction; the database refuses an identity a device holds or held (hardware-identity.ts).
 */
import { randomBytes } from "node:crypto";
import type { AuditLog } from "../audit/index.js";
import { checkDeviceSerial, idevidDer, type IssueRequest, type IssuedCertificate } from "../ca/index.js";
import { KeyfleetError, quoted, uuidV7, type Clock } from "../domain/index.js";
import type { Outbox } from "../events/index.js";
import { authorize, type ActivePolicy, type Caller, type PolicyService } from "../policy/index.js";
import { deviceRepository, groupRepository, type Database } from "../store/index.js";
import { deviceOf, type Device } from "./device-record.js";
import { collisionRefusal, hardwareIdentities, publicKeySha256 } from "./hardware-identity.js";
import { anchorsFor, checkIdevidTrust } from "./idevid-trust.js";
import type { ManufacturerService } from "./manufacturers.js";
import { checkAttributes, type DeviceAttributes } from "./device-attributes.js";

export interface DeviceRegistration extends DeviceAttributes {
  /** The manufacturer's IDevID certificate, DER or PEM. */
  readonly idevid?: Uint8Array | string | undefined;
}

export interface RegistryDeps {
  readonly database: Database;
  readonly clock: Clock;
  readonly audit: AuditLog;
  readonly outbox: Outbox;
  /** The versioned policy: what it forbids, and which issuance rule applies to a device. */
  readonly policies: PolicyService;
  /** Manufacturers, whose CA certificates a device's IDevID must validate to. */
  readonly manufacturers: ManufacturerService;
  /** The authority's signing of an authorized order. */
  readonly issue: (order: IssueRequest) => Promise<IssuedCertificate>;
}

/** At most this many devices in one registration request (one transaction). */
export const maxRegistrationBatch = 10_000;

/** Registers one device in state `registered`. */
export async function registerDevice(
  deps: RegistryDeps,
  input: DeviceRegistration,
  caller: Caller,
): Promise<Device> {
  return (await registerDevices(deps, [input], caller))[0]!;
}

/**
 * Registers devices in one transaction, each with its audit leaf and outbox event: all of them,
 * or (any refused) none, the refusal naming the first device refused and its place in the batch.
 */
export async function registerDevices(
  deps: RegistryDeps,
  inputs: readonly DeviceRegistration[],
  caller: Caller,
): Promise<Device[]> {
  if (inputs.length === 0 || inputs.length > maxRegistrationBatch) {
    throw new KeyfleetError(
      "malformed-request",
      `a registration holds 1–${maxRegistrationBatch} devices, got ${inputs.length}`,
    );
  }
  const policy = await deps.policies.current();
  // UUIDv7 ids in time order: a batch's rows go to the right edge of every index on id.
  const at = deps.clock.now().getTime();
  const random = randomBytes(10 * inputs.length);
  const rows = inputs.map((input, i) =>
    atIndex(inputs.length, i, () =>
      checkedRow(input, uuidV7(at, random.subarray(10 * i, 10 * i + 10)), caller, policy),
    ),
  );
  refuseRepeats(rows);
  const anchors = await anchorsFor(
    deps.manufacturers,
    rows.map((r) => r.row),
  );
  const now = deps.clock.now();
  rows.forEach((r, i) => atIndex(rows.length, i, () => checkIdevidTrust(r.row, anchors, now)));
  return deps.database.transaction(async (tx) => {
    // The rows go in while their audit entries are encoded and hashed (which needs no lock: the
    // head is locked by append, after the device rows, as DESIGN §6 orders).
    const facts = rows.map((r) => factsOf(r, policy.version));
    const inserting = deviceRepository(tx).insertMany(rows.map((r) => r.row));
    const [inserted, entries] = await Promise.all([
      inserting,
      inFlight(inserting, () =>
        deps.audit.prepare(
          facts.map((f) => ({
            type: "device.registered",
            actor: caller.actor,
            subject: `device:${f.device}`,
            details: f,
          })),
        ),
      ),
    ]);
    if ("collision" in inserted) {
      const { at } = inserted.collision;
      return atIndex(rows.length, at, () => {
        throw collisionRefusal(inserted.collision, caller, rows[at]!.row.serial_number);
      });
    }
    const devices = inserted.stored.map(deviceOf);
    await groupRepository(tx).addAll(groupsOf(devices));
    const positions = await deps.audit.append(tx, entries);
    await deps.outbox.publish(
      tx,
      facts.map((f, i) => ({
        position: positions[i]!,
        type: "device.registered",
        subject: `device:${f.device}`,
        payload: f,
      })),
    );
    return devices;
  });
}

/** What a registration's audit entry and outbox event say (the row as it goes in). */
function factsOf(r: ReturnType<typeof checkedRow>, policyVersion: number) {
  return {
    device: r.row.id,
    serialNumber: r.row.serial_number,
    model: r.row.model,
    manufacturer: r.row.manufacturer,
    tenant: r.row.tenant,
    region: r.row.region,
    idevidSha256: r.identities.find((x) => x.kind === "idevid-sha256")?.value ?? null,
    policyVersion,
  };
}

/**
 * Runs `work` once `query` has been sent (a macrotask later: the driver writes it to the socket in
 * the microtasks before), so CPU work overlaps the database's.
 */
async function inFlight<T>(query: Promise<unknown>, work: () => T): Promise<T> {
  void query;
  await new Promise((resolve) => setImmediate(resolve));
  return work();
}

/** The device row a registration asks for, checked and authorized, and its hardware identities. */
function checkedRow(input: DeviceRegistration, id: string, caller: Caller, policy: ActivePolicy) {
  const tenant = input.tenant ?? "default";
  const region = input.region ?? null;
  const where = `tenant ${quoted(tenant)}, region ${quoted(region ?? "none")}`;
  authorize(caller, "device.register", { attributes: { tenant, region }, what: where, creating: true });
  checkAttributes(input);
  const device = {
    tenant,
    region,
    groups: input.groups ?? [],
    labels: input.labels ?? {},
    model: input.model ?? null,
    manufacturer: input.manufacturer ?? null,
    firmwareVersion: input.firmwareVersion ?? null,
    state: "new",
  };
  policy.check(caller, "device.register", device, "register", `a device in ${where}`);
  checkDeviceSerial(input.serialNumber);
  const idevid = input.idevid === undefined ? null : idevidDer(input.idevid);
  const publicKey = idevid === null ? null : publicKeySha256(idevid);
  return {
    row: {
      id,
      serial_number: input.serialNumber,
      model: input.model ?? null,
      manufacturer: input.manufacturer ?? null,
      tenant,
      region,
      idevid,
      firmware_version: input.firmwareVersion ?? null,
      public_key_sha256: publicKey,
      groups: JSON.stringify(input.groups ?? []),
      labels: JSON.stringify(input.labels ?? {}),
    },
    identities: hardwareIdentities(input.serialNumber, idevid, publicKey),
  };
}

/** Each (tenant, group) the devices name, once. */
function groupsOf(devices: readonly Device[]): { tenant: string; name: string }[] {
  const seen = new Map<string, { tenant: string; name: string }>();
  for (const d of devices) {
    for (const name of d.groups) seen.set(JSON.stringify([d.tenant, name]), { tenant: d.tenant, name });
  }
  return [...seen.values()];
}

/** Refuses a batch in which two devices share a hardware identity (the database would keep one). */
function refuseRepeats(rows: readonly ReturnType<typeof checkedRow>[]): void {
  const seen = new Map<string, number>();
  rows.forEach((r, i) => {
    for (const identity of r.identities) {
      const key = `${identity.kind}:${identity.value}`;
      const earlier = seen.get(key);
      if (earlier !== undefined) {
        const what =
          identity.kind === "serial"
            ? `serial ${quoted(identity.value)}`
            : `${identity.kind} ${identity.value}`;
        throw new KeyfleetError(
          "malformed-request",
          `devices ${earlier} and ${i} of the batch have the same ${what}`,
        );
      }
      seen.set(key, i);
    }
  });
}

/** Runs `check` for device `i` of a batch; a refusal of a batch of several names the device's place. */
function atIndex<T>(count: number, i: number, check: () => T): T {
  try {
    return check();
  } catch (e) {
    if (count > 1 && e instanceof KeyfleetError) {
      throw new KeyfleetError(e.code, `device ${i} of the batch: ${e.message}`, {
        cause: e,
        detail: { ...e.detail, index: i },
      });
    }
    throw e;
  }
}
