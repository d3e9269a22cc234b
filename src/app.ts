/**
 * The composition root: builds the adapters from configuration and hands them down as plain
 * parameters (CONVENTIONS §3). The CLI and the server both start here.
 */
import { mkdir, stat } from "node:fs/promises";
import { join } from "node:path";
import { auditCheckpoints, auditLog, type AuditCheckpoints, type AuditLog } from "./audit/index.js";
import {
  ArtefactStore,
  createAuthority,
  crlPublisher,
  crlPublisherSeconds,
  inlineCsrReader,
  keyCustody,
  workerCsrReader,
  type Authority,
  type OcspResponder,
  type CrlPublisher,
} from "./ca/index.js";
import type { Config } from "./config.js";
import { KeyStoreRouter, SoftwareKeyStore } from "./crypto/index.js";
import { openConfiguredToken } from "./key-stores.js";
import { hasKekFile, keyEncryptionKey, removeKekFile } from "./development-kek.js";
import { KeyfleetError, systemClock, type Clock } from "./domain/index.js";
import type { Logger } from "./logger.js";
import {
  oidcVerifier,
  tokenService,
  type OidcVerifier,
  type PolicyService,
  type TokenService,
} from "./policy/index.js";
import { taskRunner, type TaskRunner } from "./tasks/index.js";
import {
  bootstrapTokens,
  enrollment,
  enrollmentNonces,
  hardwareKeySignature,
  type BootstrapTokens,
  type Enrollment,
} from "./enrollment/index.js";
import type { Outbox } from "./events/index.js";
import {
  bulkJobs,
  createRegistry,
  registryDeps,
  type BulkJobs,
  type ManufacturerService,
  type Registry,
} from "./registry/index.js";
import { databaseSealedKeyVault, issuerRepository, openDatabase, type Database } from "./store/index.js";

export interface App {
  readonly config: Config;
  readonly logger: Logger;
  readonly clock: Clock;
  readonly database: Database;
  /** Every key store this process has (software; the PKCS#11 token if configured), routed by key URI. */
  readonly keyStore: KeyStoreRouter;
  readonly authority: Authority;
  readonly audit: AuditLog;
  readonly checkpoints: AuditCheckpoints;
  readonly tokens: TokenService;
  /** Verifies OIDC bearer JWTs; undefined when no issuer is configured (JWTs are then refused). */
  readonly oidc: OidcVerifier | undefined;
  /** The device registry: devices and their lifecycle. */
  readonly devices: Registry;
  /** Manufacturers and the CA certificates their devices' IDevIDs must validate to. */
  readonly manufacturers: ManufacturerService;
  /** Versioned policy documents: apply, show, history, diff; the version in force. */
  readonly policies: PolicyService;
  /** Bulk jobs: a lifecycle command for every device matching a filter. */
  readonly jobs: BulkJobs;
  /** The outbox: what dependent services follow (`GET /api/v1/events`). */
  readonly events: Outbox;
  /** One-time bootstrap tokens for devices without an IDevID. */
  readonly bootstrapTokens: BootstrapTokens;
  /** Devices enrolling (EST, the native API): authentication, nonces, certificates. */
  readonly enrollment: Enrollment;
  /**
   * Leaves the development KEK file: re-seals every key under the passphrase in one transaction,
   * switches this app's key store to it, then removes the file.
   */
  sealKeysUnderPassphrase(passphrase: string): Promise<{ rewrapped: number; orphaned: number }>;
  /** CRLs and CA certificates, published ahead of need and served from memory and files. */
  readonly crls: CrlPublisher;
  /** This process's OCSP responder: pre-signed responses, refreshed on a timer of its own. */
  readonly ocsp: OcspResponder;
  /** The background tasks; `runNow` runs one to completion (tests, on demand). */
  readonly tasks: TaskRunner;
  /**
   * Starts serving pre-signed artefacts (what the data directory holds first, then the database's)
   * and the background tasks (`serve`; one-shot commands don't).
   */
  start(): Promise<void>;
  /** Stops the background tasks and closes what the app opened. */
  close(): Promise<void>;
}

export interface AppOptions {
  readonly clock?: Clock;
  /** An open database to use instead of the configured one (tests); the app then does not close it. */
  readonly database?: Database;
  /**
   * Worker threads that parse and verify CSRs (`keyfleet serve`: one per core). 0, the default,
   * parses on the event loop, which suits a command that issues one certificate and exits.
   */
  readonly csrWorkers?: number;
  /**
   * May this run create the data directory, migrate the database and make the development KEK
   * file (`init`, `serve`)? Other commands work on what exists: a mistyped --data is an error, not
   * a new empty authority, and an empty PostgreSQL database is `not-initialized`, left empty.
   */
  readonly create?: boolean;
  /** Open the development KEK file even if KEYFLEET_PASSPHRASE is set (`kek seal`). */
  readonly developmentKek?: boolean;
}

/** How often a server signs a checkpoint of the audit log, if it grew (on demand too: `audit head`). */
const auditCheckpointSeconds = 60;
/** How often a server looks for bulk jobs to work on (a job started through it runs at once). */
const bulkJobSeconds = 5;
/** How often a server forgets expired enrollment nonces. */
const nonceSweepSeconds = 600;
/** How often a server destroys keys left unestablished past their grace (ca/key-custody.ts). */
const keySweepSeconds = 600;
/** How often a server aborts stale rotations and finalizes ended decommissionings (registry/lifecycle-timers.ts). */
const lifecycleTimerSeconds = 60;
/** How often a server checks whether the issuing CA's OCSP responder certificate is due for renewal. */
const ocspResponderSeconds = 3600;

export async function openApp(config: Config, logger: Logger, options: AppOptions = {}): Promise<App> {
  const clock = options.clock ?? systemClock;
  const pgliteDir = join(config.dataDir, "pglite");
  if (!options.create && !config.databaseUrl && !options.database && !(await exists(pgliteDir))) {
    throw new KeyfleetError(
      "not-initialized",
      `no Keyfleet data in ${config.dataDir}: run \`keyfleet init\` there first, or point --data (KEYFLEET_DATA) at an existing data directory`,
    );
  }
  // Before anything is made: a wrong module, token or PIN leaves no data directory or database behind.
  const token = await openConfiguredToken(config);
  let database: Database;
  try {
    if (options.create) await mkdir(config.dataDir, { recursive: true, mode: 0o700 });
    database =
      options.database ??
      (await openDatabase({ url: config.databaseUrl, dataDir: pgliteDir, migrate: options.create ?? false }));
  } catch (e) {
    token?.close();
    throw e;
  }
  const csrReader = options.csrWorkers ? workerCsrReader(options.csrWorkers) : inlineCsrReader;
  const close = async () => {
    await csrReader.close();
    if (!options.database) await database.close();
    token?.close();
  };
  try {
    const vault = databaseSealedKeyVault(database.db);
    const kek = await keyEncryptionKey(config, logger, {
      create: options.create ?? false,
      developmentFile: options.developmentKek ?? false,
      sealedUnder: () => vault.kekSources(),
    });
    const software = new SoftwareKeyStore(vault, kek);
    const keyStore = new KeyStoreRouter(software, token ? [token] : []);
    const audit = auditLog({ database, clock });
    const custody = keyCustody({ database, keyStore, clock, audit });
    const authority = createAuthority({
      database,
      keyStore,
      custody,
      clock,
      defaultPublicUrl: config.publicUrl ?? config.listenerUrl,
      csrReader,
      audit,
    });
    const checkpoints = auditCheckpoints({
      database,
      clock,
      keyStore,
      custody,
      keyStoreKind: () => authority.caKeyStore(),
      log: audit,
      publicUrl: () => authority.publicUrl(),
    });
    const deps = registryDeps({ database, clock, audit, issue: authority.issue });
    const jobs = bulkJobs(deps);
    const devices = createRegistry(deps);
    const tokensForBootstrap = bootstrapTokens({ database, clock, audit });
    const nonces = enrollmentNonces({ database, clock });
    const crls = crlPublisher({
      database,
      issuers: issuerRepository(database.db),
      keyStore,
      clock,
      audit,
      outbox: deps.outbox,
      artefacts: new ArtefactStore(config.dataDir),
      publicUrl: () => authority.publicUrl(),
    });
    const ocsp = authority.ocspResponder(logger);
    const tasks = taskRunner({ database, clock, logger }, [
      {
        name: "audit-checkpoint",
        everySeconds: auditCheckpointSeconds,
        run: async () => {
          await checkpoints.sign();
        },
      },
      { name: "bulk-jobs", everySeconds: bulkJobSeconds, run: () => jobs.runPending() },
      {
        name: "nonce-sweep",
        everySeconds: nonceSweepSeconds,
        run: async () => {
          await nonces.sweep();
        },
      },
      {
        name: "key-sweeper",
        everySeconds: keySweepSeconds,
        run: async () => {
          await custody.sweep();
        },
      },
      {
        name: "lifecycle-timers",
        everySeconds: lifecycleTimerSeconds,
        run: async () => {
          await devices.expireTimers();
        },
      },
      {
        name: "crl-publisher",
        everySeconds: crlPublisherSeconds,
        run: async () => {
          await crls.publishDue();
        },
      },
      {
        name: "ocsp-responder",
        everySeconds: ocspResponderSeconds,
        run: async () => {
          if (await authority.rotateOcspResponder()) await ocsp.refresh(); // other nodes at their next refresh
        },
      },
    ]);
    return {
      config,
      logger,
      clock,
      database,
      keyStore,
      authority,
      audit,
      checkpoints,
      tokens: tokenService(database, clock, audit),
      oidc: config.oidc ? oidcVerifier(config.oidc, { clock, policy: deps.policies.current }) : undefined,
      devices,
      policies: deps.policies,
      manufacturers: deps.manufacturers,
      jobs,
      events: deps.outbox,
      bootstrapTokens: tokensForBootstrap,
      enrollment: enrollment({
        registry: devices,
        bootstrapTokens: tokensForBootstrap,
        nonces,
        evidence: hardwareKeySignature,
        clock,
      }),
      async sealKeysUnderPassphrase(passphrase) {
        if (config.databaseUrl || !(await hasKekFile(config))) {
          throw new KeyfleetError(
            "conflict",
            `there is no development KEK file in ${config.dataDir}: the keys are already sealed under a passphrase`,
          );
        }
        const result = await software.sealUnder({ source: "passphrase", passphrase });
        await removeKekFile(config);
        logger.warn(
          { rewrapped: result.rewrapped },
          "keys re-sealed under KEYFLEET_PASSPHRASE; the development KEK file is removed",
        );
        return result;
      },
      ocsp,
      crls,
      tasks,
      start: async () => {
        await crls.start(logger);
        tasks.start();
        ocsp.start();
      },
      close: async () => {
        ocsp.stop();
        crls.stop();
        await tasks.stop();
        await close();
      },
    };
  } catch (e) {
    await close();
    throw e;
  }
}

async function exists(path: string): Promise<boolean> {
  return stat(path).then(
    () => true,
    () => false,
  );
}
