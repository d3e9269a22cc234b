/**
 * Issuance: CSR parsed and checked → certificate body written and signed → recorded by group commit
 * → returned. A certificate is returned only after its row is committed; a refused request writes
 * nothing. The same request id never yields two certificates.
 */
import type { AuditEvent, AuditLog } from "../audit/index.js";
import { KeyfleetError, quoted, type Clock } from "../domain/index.js";
import {
  checkCsr,
  crlShardOf,
  derOrPem,
  formatName,
  formatSan,
  newSerial,
  profileByName,
  serialToHex,
  writeCertificate,
  type DistinguishedName,
  type ParsedCsr,
  type Profile,
  type ProfileName,
  type SanEntry,
} from "../pki/index.js";
import {
  deviceRepository,
  type CertificateRepository,
  type CertificateRow,
  type Database,
  type DeviceRepository,
  type NewCertificate,
  type Tx,
} from "../store/index.js";
import { certificateOf, type IssuedCertificate } from "./certificate.js";
import { claimedSerials, deviceNames, refuseSerialClaim, withoutDeviceClaims } from "./device-identity.js";
import { GroupCommit } from "./group-commit.js";
import { addSeconds, minDate, sha256, wholeSeconds } from "./hierarchy.js";
import type { ActiveIssuer } from "./active-issuer.js";
import type { CsrReader } from "./csr-reader.js";
import { recordBatch, type RecordBatch } from "./record-batch.js";

/** The profile of a request that names none. */
/**
 * The profile an order that names none gets: `device` for a registered device's certificate,
 * `client` for one bound to no device.
 */
export const defaultProfileFor = (bound: boolean): ProfileName => (bound ? "device" : "client");

/** The device a certificate is bound to, as the registry authorized it. */
export interface DeviceBinding {
  readonly id: string;
  readonly serialNumber: string;
}

/**
 * What the registry (or enrollment) writes in the certificate's own transaction once its row is in
 * (the device's lifecycle transition), alone or through a writer the batch shares (record-batch.ts);
 * a throw fails this certificate alone and records nothing.
 */
export type RecordWith = (
  tx: Tx,
  certificate: { readonly serial: string },
  batch: RecordBatch,
) => Promise<void>;

/**
 * What enrollment checks in the parsed, profile-checked CSR before anything is signed: the nonce in
 * its challengePassword, a re-enrollment's unchanged names. A throw refuses the request.
 */
export type InspectCsr = (csr: ParsedCsr) => Promise<void>;

/**
 * An order to sign. Who may ask, for which device and in which state, is decided before it gets
 * here (DESIGN §6, authorize then sign): `ca` checks the order against the profile and signs.
 */
export interface IssueRequest {
  /** PKCS#10, DER or PEM. */
  readonly csr: Uint8Array | string;
  readonly profile?: string | undefined;
  /** The device, authorized by the registry; absent for a certificate bound to no device. */
  readonly device?: DeviceBinding | undefined;
  /** The policy version the decision was made under, recorded on the certificate. */
  readonly policyVersion?: number | undefined;
  /** The key algorithms the policy allows this certificate (within the profile's), and whose rule says so. */
  readonly allowedKeyAlgorithms?: { readonly ids: readonly string[]; readonly by: string } | undefined;
  readonly recordWith?: RecordWith | undefined;
  readonly inspect?: InspectCsr | undefined;
  /**
   * Idempotency key: a retry with the same id asking for exactly the same thing (CSR contents,
   * profile, device, validity) gets the same certificate; anything else under that id is a `conflict`.
   */
  readonly requestId?: string | undefined;
  /**
   * Whose request ids these are: the requester's scope ("" for unscoped callers, the default). Ids
   * are looked up within it only, so another scope's requests neither collide nor show.
   */
  readonly requestScope?: string | undefined;
  readonly validitySeconds?: number | undefined;
  /** Who asks, for the audit log: `token:<id>`, `cli:<user>`; `system` (the process itself) by default. */
  readonly actor?: string | undefined;
}

export interface IssuanceDeps {
  readonly database: Database;
  readonly certificates: CertificateRepository;
  readonly devices: DeviceRepository;
  readonly clock: Clock;
  readonly issuer: () => Promise<ActiveIssuer>;
  readonly csrReader: CsrReader;
  readonly audit: AuditLog;
}

interface Order {
  readonly profile: Profile;
  readonly validity: number;
  readonly subject: DistinguishedName;
  readonly sans: readonly SanEntry[];
  readonly spki: Uint8Array;
  readonly publicKeyHash: Uint8Array;
  readonly keyAlgorithm: string;
  readonly deviceId: string | null;
  readonly request: RequestKey | null;
  readonly actor: string;
  readonly policyVersion: number | null;
  readonly recordWith: RecordWith | undefined;
}

/** Where a request id lives, and the digest of what the request asked for. */
interface RequestKey {
  readonly scope: string;
  readonly id: string;
  readonly digest: Uint8Array;
}

type CommitOutcome = { readonly inserted: true } | { readonly inserted: false };

export class Issuance {
  readonly #commits: GroupCommit<Recorded, CommitOutcome>;

  constructor(private readonly deps: IssuanceDeps) {
    // One batch, one transaction: the rows that went in, and their audit leaves in the same order.
    this.#commits = new GroupCommit(async (items) => {
      const fingerprint = (r: NewCertificate) => Buffer.from(r.fingerprint).toString("hex");
      const inserted = await deps.database.transaction(async (tx) => {
        // Devices first, in one order, then the audit head: the order a lifecycle transition takes
        // its locks in too, so a batch and a transition never wait on each other in a cycle.
        await lockDevices(tx, items);
        const done = await deps.certificates.insertMany(
          tx,
          items.map((i) => i.row),
        );
        const recorded = items.filter((i) => done.has(fingerprint(i.row)));
        await deps.audit.append(tx, recorded.map(issuedEvent));
        const batch = recordBatch();
        for (const item of recorded) await item.recordWith?.(tx, { serial: item.row.serial }, batch);
        await batch.flush();
        return done;
      });
      return items.map((i) => ({ inserted: inserted.has(fingerprint(i.row)) }));
    });
  }

  async issue(request: IssueRequest): Promise<IssuedCertificate> {
    const profile = endEntityProfile(request.profile ?? defaultProfileFor(request.device !== undefined));
    if (profile.name === "device" && !request.device) {
      throw new KeyfleetError(
        "profile-violation",
        'profile "device" is for a registered device: name the device (deviceId, --device); a client bound to no device gets profile "client"',
      );
    }
    const csr = await this.deps.csrReader.read(derOrPem(request.csr, "CERTIFICATE REQUEST"));
    checkCsr(csr, profile);
    const allowed = request.allowedKeyAlgorithms;
    if (allowed && !allowed.ids.includes(csr.keyAlgorithm)) {
      throw new KeyfleetError(
        "policy-violation",
        `${allowed.by}: the key must be ${allowed.ids.join(" or ")}; this CSR's key is ${csr.keyAlgorithm}`,
        { detail: { keyAlgorithm: csr.keyAlgorithm, allowed: allowed.ids } },
      );
    }
    await request.inspect?.(csr);
    const validity = validitySeconds(profile, request.validitySeconds);
    const publicKeyHash = sha256(csr.subjectPublicKeyInfo);
    const deviceId = request.device?.id ?? null;
    const key =
      request.requestId === undefined ? null : requestKey(request, csr, profile, deviceId, validity);
    if (key) {
      const earlier = await this.#replay(key, { publicKeyHash, profile: profile.name, deviceId });
      if (earlier) return earlier;
    }
    const { subject, sans } = identity(csr, request.device);
    if (!request.device) {
      const named = await this.deps.devices.withSerial(claimedSerials(subject, sans));
      if (named) refuseSerialClaim(named);
    }
    return this.#signAndRecord({
      profile,
      validity,
      subject,
      sans,
      spki: csr.subjectPublicKeyInfo,
      publicKeyHash,
      keyAlgorithm: csr.keyAlgorithm,
      deviceId,
      request: key,
      actor: request.actor ?? "system",
      policyVersion: request.policyVersion ?? null,
      recordWith: request.recordWith,
    });
  }

  /**
   * For a key the server made itself (its own TLS key), where there is no CSR to prove possession:
   * the caller holds the private key in this very process.
   */
  async issueForOwnKey(order: {
    spki: Uint8Array;
    keyAlgorithm: string;
    subject: DistinguishedName;
    sans: SanEntry[];
    profile: string;
    /** What commits with the certificate (the OCSP responder's key activated in custody). */
    recordWith?: RecordWith | undefined;
  }): Promise<IssuedCertificate> {
    const profile = endEntityProfile(order.profile);
    return this.#signAndRecord({
      ...order,
      publicKeyHash: sha256(order.spki),
      profile,
      validity: profile.defaultValiditySeconds,
      deviceId: null,
      request: null,
      actor: "system",
      policyVersion: null,
      recordWith: order.recordWith,
    });
  }

  async #signAndRecord(order: Order): Promise<IssuedCertificate> {
    const issuer = await this.deps.issuer();
    const notBefore = wholeSeconds(this.deps.clock.now());
    const notAfter = minDate(addSeconds(notBefore, order.validity), issuer.template.notAfter);
    const serial = newSerial();
    const der = await writeCertificate(issuer.template, {
      serial,
      subject: order.subject,
      sans: order.sans,
      subjectPublicKeyInfo: order.spki,
      notBefore,
      notAfter,
      profile: order.profile,
    });
    const sans = order.sans.map(formatSan);
    const row = {
      issuer_id: issuer.id,
      serial: serialToHex(serial),
      der,
      fingerprint: sha256(der),
      subject: formatName(order.subject),
      sans: JSON.stringify(sans),
      profile: order.profile.name,
      key_algorithm: order.keyAlgorithm,
      public_key_sha256: order.publicKeyHash,
      device_id: order.deviceId,
      policy_version: order.policyVersion,
      request_id: order.request?.id ?? null,
      request_scope: order.request?.scope ?? null,
      request_digest: order.request?.digest ?? null,
      not_before: notBefore,
      not_after: notAfter,
      crl_shard: crlShardOf(serial, issuer.template.urlExtensions.length),
    } satisfies NewCertificate;
    const outcome = await this.#commits.submit({ row, actor: order.actor, recordWith: order.recordWith });
    if (outcome.inserted) return certificateOf({ ...row, sans, status: "good" });
    // Not inserted: a concurrent request with the same id won the race (a serial collision at 2^-127 is not worth a branch).
    const earlier =
      order.request &&
      (await this.#replay(order.request, {
        publicKeyHash: order.publicKeyHash,
        profile: order.profile.name,
        deviceId: order.deviceId,
      }));
    if (!earlier)
      throw new KeyfleetError("internal", "the certificate could not be recorded; retry the request");
    return earlier;
  }

  /**
   * The certificate an earlier request with this id made in this scope, if any. A retry must ask
   * for the same thing; anything else is a `conflict`, not a silent answer to a different question.
   * The message names the earlier certificate: it is in the caller's own scope.
   */
  async #replay(key: RequestKey, asked: Legacy): Promise<IssuedCertificate | undefined> {
    const row = await this.deps.certificates.byRequestId(key.scope, key.id);
    if (!row) return undefined;
    const same = row.request_digest
      ? Buffer.from(row.request_digest).equals(key.digest)
      : sameAsLegacy(row, asked);
    if (!same) {
      throw new KeyfleetError(
        "conflict",
        `request id ${quoted(key.id)} was already used for a different request (certificate ${row.serial}): a retry must send the same CSR, profile, device and validity; use a new request id for a new request`,
      );
    }
    return certificateOf(row);
  }
}

/** A certificate row on its way into the database, and who asked for it. */
interface Recorded {
  readonly row: NewCertificate;
  readonly actor: string;
  readonly recordWith: RecordWith | undefined;
}

async function lockDevices(tx: Tx, items: readonly Recorded[]): Promise<void> {
  const ids = [...new Set(items.flatMap((i) => (i.recordWith && i.row.device_id ? [i.row.device_id] : [])))];
  if (ids.length > 0) await deviceRepository(tx).lockAll(ids.sort());
}

function issuedEvent({ row, actor }: Recorded): AuditEvent {
  return {
    type: "certificate.issued",
    actor,
    subject: `certificate:${row.serial}`,
    details: {
      serial: row.serial,
      issuer: row.issuer_id,
      sha256: Buffer.from(row.fingerprint).toString("hex"),
      subjectName: row.subject,
      sans: JSON.parse(row.sans as string) as string[],
      profile: row.profile,
      keyAlgorithm: row.key_algorithm,
      device: row.device_id ?? null,
      policyVersion: row.policy_version ?? null,
      requestId: row.request_id ?? null,
      notBefore: (row.not_before as Date).toISOString(),
      notAfter: (row.not_after as Date).toISOString(),
    },
  };
}

/** What a row from before migration 0004 (no digest) can be compared on. */
interface Legacy {
  readonly publicKeyHash: Uint8Array;
  readonly profile: string;
  readonly deviceId: string | null;
}

function sameAsLegacy(earlier: CertificateRow, asked: Legacy): boolean {
  return (
    Buffer.from(earlier.public_key_sha256).equals(asked.publicKeyHash) &&
    earlier.profile === asked.profile &&
    earlier.device_id === asked.deviceId
  );
}

/**
 * The request's idempotency key and the digest of everything it asks for: the CSR's
 * certificationRequestInfo (subject, key, attributes: not its signature, which a signer may
 * randomize on each attempt), the profile, the device and the validity it will get.
 */
function requestKey(
  request: IssueRequest,
  csr: ParsedCsr,
  profile: Profile,
  deviceId: string | null,
  validity: number,
): RequestKey {
  const id = request.requestId!;
  checkRequestId(id);
  const asked = JSON.stringify([
    Buffer.from(sha256(csr.requestInfo)).toString("hex"),
    profile.name,
    deviceId,
    validity,
  ]);
  return { scope: request.requestScope ?? "", id, digest: sha256(Buffer.from(asked, "utf8")) };
}

/** An idempotency key: 1–200 printable ASCII characters, no spaces (the API schema uses this rule too). */
export const requestIdPattern = /^[\x21-\x7e]{1,200}$/;

function checkRequestId(requestId: string): void {
  if (!requestIdPattern.test(requestId)) {
    throw new KeyfleetError(
      "malformed-request",
      `a request id is 1–200 printable ASCII characters without spaces, got ${quoted(requestId)}`,
    );
  }
}

function endEntityProfile(name: string): Profile {
  const profile = profileByName(name);
  if (profile.ca) {
    throw new KeyfleetError(
      "forbidden-extension",
      `profile "${profile.name}" is for CA certificates; they are made by \`keyfleet init\` and \`keyfleet ca\``,
    );
  }
  return profile;
}

function validitySeconds(profile: Profile, requested: number | undefined): number {
  if (requested === undefined) return profile.defaultValiditySeconds;
  if (!Number.isInteger(requested) || requested <= 0 || requested > profile.maxValiditySeconds) {
    throw new KeyfleetError(
      "profile-violation",
      `validity must be 1–${profile.maxValiditySeconds} seconds for profile "${profile.name}", got ${requested}`,
    );
  }
  return requested;
}

/**
 * Who the certificate names: the registry's record when bound to a device (deviceNames says how),
 * the checked CSR when not — except that no CSR may name a registered device itself.
 */
function identity(
  csr: ParsedCsr,
  device: DeviceBinding | undefined,
): { subject: DistinguishedName; sans: readonly SanEntry[] } {
  return device
    ? deviceNames(device, csr.sans)
    : { subject: csr.subject, sans: withoutDeviceClaims(csr.sans) };
}
