/**
 * Keeps the HTTPS server's own certificate fresh while it runs: a timer asks the authority whether
 * renewal is due and swaps the new key and certificate into the running server with
 * setSecureContext, without a restart (connections already open keep what they were made with).
 */
import type { Server as TlsServer, SecureContextOptions } from "node:tls";
import type { Authority, ServerTlsIdentity } from "../ca/index.js";
import type { Logger } from "../logger.js";
import { tlsPolicy } from "./tls-policy.js";

/** Often enough for a 90-day certificate renewed 30 days before expiry; cheap (two indexed reads). */
export const TLS_RENEWAL_CHECK_MS = 60 * 60 * 1000;

/** What node:tls is given, at start and at each renewal alike: the identity, and the one TLS policy. */
export function secureContextOptions(identity: ServerTlsIdentity): SecureContextOptions {
  return { ...tlsPolicy, key: identity.privateKeyPem, cert: identity.certificateChainPem };
}

export interface TlsRenewal {
  /** Checks now; true if a new certificate was swapped in. The timer calls this; so may a test. */
  renewIfDue(): Promise<boolean>;
  /** Stops the timer and waits for a check under way. */
  stop(): Promise<void>;
}

export function tlsRenewal(options: {
  readonly authority: Authority;
  readonly hostnames: readonly string[];
  readonly identity: ServerTlsIdentity;
  readonly server: TlsServer;
  readonly logger: Logger;
  readonly intervalMs: number;
}): TlsRenewal {
  const { authority, hostnames, server, logger } = options;
  let served = options.identity;
  let running: Promise<boolean> | undefined;

  const check = async (): Promise<boolean> => {
    const next = await authority.renewServerTlsIdentity(served, hostnames);
    if (!next) return false;
    server.setSecureContext(secureContextOptions(next));
    logger.info(
      { serial: next.serial, notAfter: next.notAfter.toISOString(), previous: served.serial },
      "server TLS certificate renewed",
    );
    served = next;
    return true;
  };
  const renewIfDue = (): Promise<boolean> => {
    running ??= check().finally(() => (running = undefined)); // one check at a time
    return running;
  };

  const timer = setInterval(() => {
    renewIfDue().catch((err: unknown) =>
      logger.error(
        { err },
        "server TLS certificate renewal failed; the current one serves until the next check",
      ),
    );
  }, options.intervalMs);
  timer.unref(); // the timer alone never keeps the process alive

  return {
    renewIfDue,
    async stop() {
      clearInterval(timer);
      await running?.catch(() => undefined); // its failure was logged by whoever awaited it
    },
  };
}
