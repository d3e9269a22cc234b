/** The authority's public face: initialize the hierarchy, issue, and read CAs and certificates. */
import type { AuditLog } from "../audit/index.js";
import type { KeyCustody, KeyStore, KeyStoreKind } from "../crypto/index.js";
import { KeyfleetError, checkPublicUrl, quoted, type Clock } from "../domain/index.js";
import { checkCrlShards, serialFromHex, serialToHex, toPem } from "../pki/index.js";
import {
  certificateRepository,
  deviceRepository,
  issuerRepository,
  keyRepository,
  settingsRepository,
  type CertificateQuery,
  type Database,
  type IssuerRow,
  type Tx,
} from "../store/index.js";
import { activeIssuerCache } from "./active-issuer.js";
import { keyStoreOfIssuer } from "./issuer-keys.js";
import { publicUrlKey, publicUrlSetting } from "./public-url-setting.js";
import { certificateOf, type IssuedCertificate } from "./certificate.js";
import { initializeHierarchy, sha256, type InitOptions } from "./hierarchy.js";
import { Issuance, type IssueRequest } from "./issuance.js";
import { inlineCsrReader, type CsrReader } from "./csr-reader.js";
import { serverIdentities, type ServerTlsIdentity } from "./server-identity.js";
import { issuerUrls } from "./urls.js";
import { ocspDelegates } from "./ocsp-delegate.js";
import { ocspResponder, type OcspResponder } from "./ocsp-responder.js";
import type { Logger } from "../logger.js";

export interface AuthorityDeps {
  readonly database: Database;
  readonly keyStore: KeyStore;
  /** Where CA keys are generated: recorded before use, activated with their CA (key-custody.ts). */
  readonly custody: KeyCustody<Tx>;
  readonly clock: Clock;
  /**
   * The public URL `init` records when given none, and the one used while the database holds none
   * (an authority made before settings lived there). `keyfleet config set public-url` changes it.
   */
  readonly defaultPublicUrl: string | undefined;
  /** Where CSRs are parsed and verified; in-process unless given a worker pool (servers). */
  readonly csrReader?: CsrReader;
  /** Where every CA created, certificate issued and setting changed is recorded, in the same transaction. */
  readonly audit: AuditLog;
}

export interface CaSummary {
  readonly id: string;
  readonly kind: "root" | "intermediate";
  readonly parentId: string | null;
  readonly subject: string;
  readonly serial: string;
  readonly algorithm: string;
  readonly notBefore: Date;
  readonly notAfter: Date;
  readonly state: "active" | "retired";
  /** How many CRLs its certificates are spread over; `urls.crl` is shard 0's. */
  readonly crlShards: number;
  readonly urls: { readonly caIssuers: string; readonly crl: string };
}

/** Settings whose values are public, so the audit log may hold them as they are. */
const loggedSettings: ReadonlySet<string> = new Set([publicUrlKey]);

export function createAuthority(deps: AuthorityDeps) {
  const issuers = issuerRepository(deps.database.db);
  const settings = settingsRepository(deps.database.db);
  const setting = publicUrlSetting(settings, deps.clock, deps.defaultPublicUrl);
  const publicUrl = () => setting.get();
  const certificates = certificateRepository(deps.database.db);
  const devices = deviceRepository(deps.database.db);
  const active = activeIssuerCache(issuers, deps.keyStore, publicUrl);
  const issuance = new Issuance({
    database: deps.database,
    certificates,
    devices,
    clock: deps.clock,
    issuer: active.get,
    csrReader: deps.csrReader ?? inlineCsrReader,
    audit: deps.audit,
  });
  const server = serverIdentities({
    keyStore: deps.keyStore,
    keys: keyRepository(deps.database.db),
    certificates,
    issuers,
    issuance,
    clock: deps.clock,
    chainPem: async () => (await chain()).pem,
  });

  const delegates = ocspDelegates({ ...deps, issuers, issuance });

  const summary = (row: IssuerRow, base: string): CaSummary => {
    const urls = issuerUrls(base, row.id);
    return {
      id: row.id,
      kind: row.kind,
      parentId: row.parent_id,
      subject: row.subject,
      serial: row.serial,
      algorithm: row.algorithm,
      notBefore: row.not_before,
      notAfter: row.not_after,
      state: row.state,
      crlShards: row.crl_shards,
      urls: { caIssuers: urls.caIssuers, crl: urls.crl },
    };
  };

  async function cas(): Promise<CaSummary[]> {
    const base = await publicUrl();
    return (await issuers.list()).map((row) => summary(row, base));
  }

  async function chain(): Promise<{ pem: string; der: Uint8Array[] }> {
    const rows: IssuerRow[] = [];
    let row = await issuers.current("intermediate");
    if (!row)
      throw new KeyfleetError("not-initialized", "the authority has no issuing CA yet: run `keyfleet init`");
    while (row) {
      rows.push(row);
      row = row.parent_id ? await issuers.byId(row.parent_id) : undefined;
    }
    return {
      pem: rows.map((r) => toPem("CERTIFICATE", r.certificate)).join(""),
      der: rows.map((r) => r.certificate),
    };
  }

  /**
   * A setting changed inside `tx`, its history row and its audit leaf with it; returns the old
   * value. The log is permanent, so it holds the values of public settings only (`loggedSettings`)
   * and the SHA-256 of any other: a future secret-bearing setting never lands there in clear.
   */
  async function changeSetting(tx: Tx, key: string, value: string, actor: string): Promise<string | null> {
    const old = await settings.set(tx, key, value, actor);
    if (old !== value) {
      const shown = (v: string | null) =>
        v === null || loggedSettings.has(key)
          ? v
          : `sha256:${Buffer.from(sha256(Buffer.from(v))).toString("hex")}`;
      await deps.audit.append(tx, [
        {
          type: "setting.changed",
          actor,
          subject: `setting:${key}`,
          details: { key, old: shown(old), new: shown(value) },
        },
      ]);
    }
    return old;
  }

  async function create(options: InitOptions, ifEmpty: boolean): Promise<CaSummary[] | undefined> {
    if (ifEmpty && (await issuers.anyIn(deps.database.db))) return undefined; // no public URL needed then
    const asked = options.publicUrl ?? deps.defaultPublicUrl;
    if (asked === undefined) {
      throw new KeyfleetError(
        "invalid-configuration",
        "the public URL certificates carry is unknown (the plain-HTTP port is 0, chosen at start): give --public-url (KEYFLEET_PUBLIC_URL)",
      );
    }
    const base = checkPublicUrl(asked);
    const made = await initializeHierarchy(
      { ...deps, issuers, audit: deps.audit },
      { ...options, publicUrl: base, ifEmpty },
      async (tx) => {
        await changeSetting(tx, publicUrlKey, base, options.actor ?? "system");
      },
    );
    if (!made) return undefined;
    setting.forget();
    active.reset();
    return cas();
  }

  return {
    /** Creates the hierarchy; `conflict` if the authority already has one. */
    async init(options: InitOptions): Promise<CaSummary[]> {
      return (await create(options, false))!;
    },

    /**
     * Creates the hierarchy unless one exists (first start): undefined when it existed, also when
     * another process created it a moment ago. Several processes starting together make one.
     */
    initIfEmpty: (options: InitOptions): Promise<CaSummary[] | undefined> => create(options, true),

    /** The base URL certificates carry for CRLs, OCSP and caIssuers: the database's, the same for every process. */
    publicUrl,

    /** Whether the database holds the public URL (an authority made before it did holds none). */
    async publicUrlRecorded(): Promise<boolean> {
      return (await settings.get(publicUrlKey)) !== undefined;
    },

    /**
     * Changes the public URL for every certificate issued from now on (those already issued keep
     * theirs), recording who changed it from what; returns the old value.
     */
    async setPublicUrl(url: string, actor: string): Promise<string | null> {
      const base = checkPublicUrl(url);
      const old = await deps.database.transaction((tx) => changeSetting(tx, publicUrlKey, base, actor));
      setting.forget();
      active.reset();
      return old;
    },

    publicUrlHistory: () => settings.history(publicUrlKey),

    /**
     * Spreads the certificates an issuing CA issues from now on over `shards` CRLs (crl-shard.ts);
     * those issued keep the shard they name, so the count only grows. Takes effect here at once and
     * on other servers at their next start; the caller publishes the new shards' CRLs before this
     * process issues a certificate naming them (`keyfleet ca crl-shards` does both).
     */
    async setCrlShards(id: string, shards: number, actor: string): Promise<{ old: number; shards: number }> {
      checkCrlShards(shards);
      const old = await deps.database.transaction(async (tx) => {
        const row = await issuerRepository(tx).lockedById(id);
        if (!row) throw new KeyfleetError("not-found", `no CA ${quoted(id)}`);
        if (row.kind === "root") {
          throw new KeyfleetError(
            "malformed-request",
            `CA ${quoted(id)} is the root: its one CRL lists the CAs it issued, and is not sharded`,
          );
        }
        if (shards < row.crl_shards) {
          throw new KeyfleetError(
            "conflict",
            `CA ${quoted(id)} has ${row.crl_shards} CRL shards, which its certificates name: the count only grows`,
          );
        }
        if (shards !== row.crl_shards) {
          await issuerRepository(tx).setCrlShards(id, shards);
          await deps.audit.append(tx, [
            {
              type: "ca.crl-shards-changed",
              actor,
              subject: `ca:${id}`,
              details: { old: row.crl_shards, new: shards },
            },
          ]);
        }
        return row.crl_shards;
      });
      return { old, shards };
    },

    /** Compiles the issuing CA again at its next use (its CRL shards changed, and their CRLs are out). */
    reloadIssuer(): void {
      active.reset();
    },

    async initialized(): Promise<boolean> {
      return (await issuers.current("intermediate")) !== undefined;
    },

    issue: (request: IssueRequest): Promise<IssuedCertificate> => issuance.issue(request),

    /**
     * The key and certificate of this process's HTTPS server: the recorded ones while they are fit
     * to serve `hostnames` (more than a third of their lifetime left, current CA, not revoked), else new.
     */
    serverTlsIdentity: (hostnames: readonly string[]): Promise<ServerTlsIdentity> =>
      server.current(hostnames),

    /** While serving: the identity to switch to when `served` is due for renewal; undefined if it is not. */
    renewServerTlsIdentity: (
      served: ServerTlsIdentity,
      hostnames: readonly string[],
    ): Promise<ServerTlsIdentity | undefined> => server.renewIfDue(served, hostnames),

    /** The store of the current issuing CA's key (`software` before there is one). */
    caKeyStore: async (): Promise<KeyStoreKind> =>
      keyStoreOfIssuer(issuers, await issuers.current("intermediate")),

    /** Loads the issuing CA's key (readiness: the key store opens it). */
    async ready(): Promise<void> {
      await active.get();
    },

    cas,

    /** The current issuing CA's chain, issuing CA first and root last, as PEM. */
    chain,

    /** Gives the issuing CA a new delegated OCSP responder when it is due (ocsp-delegate.ts); whether it did. */
    rotateOcspResponder: (): Promise<boolean> => delegates.rotate(),

    /** This process's OCSP responder and its cache (ocsp-responder.ts). */
    ocspResponder: (logger: Logger, options: { maxEntries?: number } = {}): OcspResponder =>
      ocspResponder({ ...deps, ...options, issuers, delegates, logger }),

    async caCertificate(id: string): Promise<Uint8Array> {
      const row = await issuers.byId(id);
      if (!row) throw new KeyfleetError("not-found", `no CA "${id}"`);
      return row.certificate;
    },

    async certificate(serialHex: string): Promise<IssuedCertificate> {
      const serial = serialToHex(serialFromHex(serialHex));
      const row = await certificates.bySerial(serial);
      if (!row) throw new KeyfleetError("not-found", `no certificate with serial ${serial}`);
      return certificateOf(row);
    },

    async certificates(
      query: CertificateQuery,
    ): Promise<{ items: IssuedCertificate[]; next: string | undefined }> {
      // The cursor is a serial (the last one of the previous page), in either form openssl prints.
      const after = query.after === undefined ? undefined : serialToHex(serialFromHex(query.after));
      const page = await certificates.list({ ...query, after });
      return { items: page.items.map(certificateOf), next: page.next };
    },
  };
}

export type Authority = ReturnType<typeof createAuthority>;
