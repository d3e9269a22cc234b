/**
 * Creating the CA hierarchy: a self-signed root and an issuing CA under it. Each key is generated
 * in custody (recorded `generated` before it signs anything, key-custody.ts), and one transaction
 * records the CAs and their certificates and activates their keys. However many processes start
 * together on one empty database, one hierarchy is made: the transaction takes the hierarchy lock
 * and checks again, under it, that no CA exists; a process that finds one discards the keys it
 * generated and uses the hierarchy it found. A crash before that transaction leaves the keys
 * `generated`, and the key sweeper destroys them after the grace.
 */
import { createHash, randomBytes } from "node:crypto";
import type { AuditLog } from "../audit/index.js";
import {
  keyAlgorithmFor,
  type CustodyKey,
  type KeyAlgorithmId,
  type KeyCustody,
  type KeyStore,
  type KeyStoreKind,
} from "../crypto/index.js";
import { KeyfleetError, type Clock } from "../domain/index.js";
import {
  compileIssuer,
  compileSelfIssuer,
  checkName,
  formatName,
  newSerial,
  profiles,
  serialToHex,
  writeCertificate,
  type DistinguishedName,
  type IssuerTemplate,
  type Profile,
} from "../pki/index.js";
import {
  holdLock,
  type Database,
  type IssuerRepository,
  type NewCertificate,
  type Tx,
} from "../store/index.js";
import { issuerUrls } from "./urls.js";

export interface InitOptions {
  readonly algorithm: KeyAlgorithmId;
  readonly organization?: string | undefined;
  /** The base of the CRL, OCSP and caIssuers URLs (DESIGN: an authority setting, kept in the database). */
  readonly publicUrl?: string | undefined;
  /** Who creates the authority, for the audit log (`cli:<user>`; `system` on a server's first start). */
  readonly actor?: string | undefined;
  /** Where the root and issuing CA keys are generated (`init --hsm`: the PKCS#11 token); software by default. */
  readonly keyStore?: KeyStoreKind | undefined;
}

export interface HierarchyDeps {
  readonly database: Database;
  readonly issuers: IssuerRepository;
  readonly keyStore: KeyStore;
  /** Where the CA keys are generated: recorded before use, activated by the establishing transaction. */
  readonly custody: KeyCustody<Tx>;
  readonly clock: Clock;
  readonly audit: AuditLog;
}

interface NewCa {
  readonly id: string;
  readonly kind: "root" | "intermediate";
  readonly parentId: string;
  readonly ref: CustodyKey;
  readonly subject: DistinguishedName;
  readonly der: Uint8Array;
  readonly serial: Uint8Array;
  readonly notBefore: Date;
  readonly notAfter: Date;
}

const alreadyInitialized = () =>
  new KeyfleetError(
    "conflict",
    "the authority is already initialized: its CAs exist (see `keyfleet ca list`)",
  );

/**
 * Makes the hierarchy; `alsoInTx` writes what belongs with it (its settings) in the same
 * transaction. When CAs exist already (made before, or a moment ago by another process), `ifEmpty`
 * answers undefined; otherwise that is a `conflict`. Keys generated for a hierarchy that is not
 * recorded are discarded (destroyed, with an audit leaf each).
 */
export async function initializeHierarchy(
  deps: HierarchyDeps,
  options: InitOptions & { readonly publicUrl: string; readonly ifEmpty?: boolean },
  alsoInTx: (tx: Tx) => Promise<void>,
): Promise<{ rootId: string; issuingId: string } | undefined> {
  const refused = () => {
    if (options.ifEmpty) return undefined;
    throw alreadyInitialized();
  };
  if (await deps.issuers.anyIn(deps.database.db)) return refused();
  keyAlgorithmFor(options.algorithm, "ca"); // RSA-2048 is for device keys only: refused before any key is made
  const organization = options.organization ?? "Keyfleet";
  const tag = randomBytes(4).toString("hex");
  checkName([{ type: "CN", value: `${organization} Issuing CA ${tag}` }]); // before any key is made
  const generated: CustodyKey[] = [];
  let recorded = false;
  try {
    const [root, issuing] = await makeHierarchy(deps, { ...options, organization, tag }, generated);
    recorded = await deps.database.transaction(async (tx) => {
      await holdLock(tx, "hierarchy");
      if (await deps.issuers.anyIn(tx)) return false; // another process made one since the check above
      await recordHierarchy(tx, deps, [root, issuing]);
      await deps.audit.append(
        tx,
        [root, issuing].map(([ca]) => createdEvent(ca, options.actor ?? "system")),
      );
      await alsoInTx(tx);
      return true;
    });
    return recorded ? { rootId: root[0].id, issuingId: issuing[0].id } : refused();
  } finally {
    // Best effort: what this cannot destroy stays `generated` (or `destroying`) for the sweeper.
    if (!recorded) await deps.custody.discard(generated).catch(() => undefined);
  }
}

/** The root and the issuing CA, keys generated (and pushed onto `generated`) and certificates signed. */
async function makeHierarchy(
  deps: HierarchyDeps,
  options: {
    algorithm: KeyAlgorithmId;
    publicUrl: string;
    organization: string;
    tag: string;
    keyStore?: KeyStoreKind | undefined;
  },
  generated: CustodyKey[],
): Promise<[[NewCa, Profile], [NewCa, Profile]]> {
  const { organization, tag } = options;
  const now = wholeSeconds(deps.clock.now());
  const generate = async (caId: string, label: string) => {
    const key = await deps.custody.generate({
      id: keyIdOf(caId),
      algorithm: options.algorithm,
      label,
      purpose: "ca",
      store: options.keyStore ?? "software",
      extractable: false,
    });
    generated.push(key);
    return key;
  };

  const rootId = `ca-${randomBytes(5).toString("hex")}`;
  const rootRef = await generate(rootId, `${rootId} root`);
  const rootSigner = await deps.keyStore.signer(rootRef);
  const rootSubject: DistinguishedName = [
    { type: "O", value: organization },
    { type: "CN", value: `${organization} Root CA ${tag}` },
  ];
  const rootProfile = profiles["root-ca"];
  const rootNotAfter = addSeconds(now, rootProfile.defaultValiditySeconds);
  const root = await signCa(
    compileSelfIssuer({ subject: rootSubject, signer: rootSigner, notAfter: rootNotAfter }),
    {
      id: rootId,
      kind: "root",
      parentId: rootId,
      ref: rootRef,
      subject: rootSubject,
      notBefore: now,
      notAfter: rootNotAfter,
    },
    rootProfile,
  );

  const issuingId = `ca-${randomBytes(5).toString("hex")}`;
  const issuingRef = await generate(issuingId, `${issuingId} issuing`);
  const issuingSubject: DistinguishedName = [
    { type: "O", value: organization },
    { type: "CN", value: `${organization} Issuing CA ${tag}` },
  ];
  const issuingProfile = profiles["issuing-ca"];
  const rootTemplate = compileIssuer({
    certificate: root.der,
    signer: rootSigner,
    urls: issuerUrls(options.publicUrl, rootId),
  });
  const issuing = await signCa(
    rootTemplate,
    {
      id: issuingId,
      kind: "intermediate",
      parentId: rootId,
      ref: issuingRef,
      subject: issuingSubject,
      notBefore: now,
      notAfter: minDate(addSeconds(now, issuingProfile.defaultValiditySeconds), rootNotAfter),
    },
    issuingProfile,
  );
  return [
    [root, rootProfile],
    [issuing, issuingProfile],
  ];
}

function createdEvent(ca: NewCa, actor: string) {
  return {
    type: "ca.created" as const,
    actor,
    subject: `ca:${ca.id}`,
    details: {
      id: ca.id,
      kind: ca.kind,
      parent: ca.kind === "root" ? null : ca.parentId,
      serial: serialToHex(ca.serial),
      subjectName: formatName(ca.subject),
      algorithm: ca.ref.algorithm,
      sha256: Buffer.from(sha256(ca.der)).toString("hex"),
      keyStore: ca.ref.store,
      notBefore: ca.notBefore.toISOString(),
      notAfter: ca.notAfter.toISOString(),
    },
  };
}

const keyIdOf = (caId: string) => `key-${caId}`;

async function recordHierarchy(
  tx: Tx,
  deps: Pick<HierarchyDeps, "issuers" | "custody">,
  cas: readonly (readonly [NewCa, Profile])[],
): Promise<void> {
  for (const [ca, profile] of cas) {
    await deps.custody.activate(tx, ca.ref);
    await deps.issuers.insertIssuer(tx, {
      id: ca.id,
      name: ca.id,
      kind: ca.kind,
      parent_id: ca.kind === "root" ? null : ca.parentId,
      key_id: ca.ref.id,
      certificate: ca.der,
      serial: serialToHex(ca.serial),
      subject: formatName(ca.subject),
      algorithm: ca.ref.algorithm,
      not_before: ca.notBefore,
      not_after: ca.notAfter,
    });
    await tx.insertInto("certificates").values(caCertificateRow(ca, profile)).execute();
  }
}

async function signCa(
  issuer: IssuerTemplate,
  ca: Omit<NewCa, "der" | "serial">,
  profile: Profile,
): Promise<NewCa> {
  const serial = newSerial();
  const der = await writeCertificate(issuer, {
    serial,
    subject: ca.subject,
    sans: [],
    subjectPublicKeyInfo: ca.ref.publicKey,
    notBefore: ca.notBefore,
    notAfter: ca.notAfter,
    profile,
  });
  return { ...ca, der, serial };
}

function caCertificateRow(ca: NewCa, profile: Profile): NewCertificate {
  return {
    issuer_id: ca.parentId,
    serial: serialToHex(ca.serial),
    der: ca.der,
    fingerprint: sha256(ca.der),
    subject: formatName(ca.subject),
    sans: "[]",
    profile: profile.name,
    key_algorithm: ca.ref.algorithm,
    public_key_sha256: sha256(ca.ref.publicKey),
    not_before: ca.notBefore,
    not_after: ca.notAfter,
  };
}

export function sha256(data: Uint8Array): Uint8Array {
  return createHash("sha256").update(data).digest();
}

export function wholeSeconds(d: Date): Date {
  return new Date(Math.floor(d.getTime() / 1000) * 1000);
}

export function addSeconds(d: Date, seconds: number): Date {
  return new Date(d.getTime() + seconds * 1000);
}

export function minDate(a: Date, b: Date): Date {
  return a.getTime() <= b.getTime() ? a : b;
}
