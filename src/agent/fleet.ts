/**
 * A fleet of agents against one server, for demos and load (`keyfleet simulate`): each device
 * enrolls with its bootstrap token and a key of its own made in a file store under its own state
 * directory, then renews with a new key, exactly as `keyfleet-agent enroll` and `renew` do. Phases
 * run one after the other across the fleet, each with at most `concurrency` devices at once, so
 * each has its own rate and latencies. A device that fails is counted, with its error, and the
 * others go on; one that failed to enroll is not asked to renew.
 */
import { join } from "node:path";
import type { KeyAlgorithmId } from "../crypto/index.js";
import { isKeyfleetError, percentile, type ErrorCode } from "../domain/index.js";
import { enroll } from "./enroll.js";
import type { InstalledCertificate } from "./issued-certificate.js";
import { renew } from "./renew.js";

export interface FleetDevice {
  readonly deviceId: string;
  /** Its one-time bootstrap token. */
  readonly token: string;
}

export type FleetPhase = "enroll" | "renew";

export interface FleetOptions {
  readonly server: URL;
  /** Trust anchors for the server's TLS certificate, PEM. */
  readonly caBundlePem: string;
  readonly devices: readonly FleetDevice[];
  readonly concurrency: number;
  /** Each device's state directory is `<stateRoot>/<device id>`. */
  readonly stateRoot: string;
  readonly phases: readonly FleetPhase[];
  readonly algorithm?: KeyAlgorithmId;
  readonly label?: string;
  /** Called after each device of a phase finishes, with the phase's counts so far. */
  readonly progress?: (phase: FleetPhase, done: number, failed: number, total: number) => void;
  readonly now?: () => number;
}

export interface FleetFailure {
  readonly deviceId: string;
  readonly phase: FleetPhase;
  readonly code: ErrorCode;
  readonly message: string;
}

export interface PhaseReport {
  readonly phase: FleetPhase;
  readonly attempted: number;
  readonly succeeded: number;
  /** Of those, how many the server saw in use at once (their state then moved on). */
  readonly confirmed: number;
  readonly seconds: number;
  readonly perSecond: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
}

export interface FleetReport {
  readonly phases: readonly PhaseReport[];
  readonly failures: readonly FleetFailure[];
}

export async function runFleet(o: FleetOptions): Promise<FleetReport> {
  if (!Number.isInteger(o.concurrency) || o.concurrency < 1) {
    throw new RangeError(`concurrency must be a positive integer, not ${o.concurrency}`);
  }
  const now = o.now ?? (() => performance.now());
  const failures: FleetFailure[] = [];
  const phases: PhaseReport[] = [];
  let devices = o.devices;
  for (const phase of o.phases) {
    const step = (d: FleetDevice): Promise<InstalledCertificate> => {
      const stateDir = join(o.stateRoot, d.deviceId);
      if (phase === "renew") return renew(stateDir);
      return enroll({
        stateDir,
        server: o.server,
        deviceId: d.deviceId,
        credential: { kind: "token", token: d.token },
        keyStore: { kind: "file" },
        caBundlePem: o.caBundlePem,
        ...(o.label === undefined ? {} : { label: o.label }),
        ...(o.algorithm === undefined ? {} : { algorithm: o.algorithm }),
      });
    };
    const latencies: number[] = [];
    const succeeded: FleetDevice[] = [];
    let confirmed = 0;
    let failed = 0;
    const started = now();
    let next = 0;
    const worker = async (): Promise<void> => {
      while (next < devices.length) {
        const d = devices[next++]!;
        const t0 = now();
        try {
          const installed = await step(d);
          latencies.push(now() - t0);
          succeeded.push(d);
          if (installed.confirmed) confirmed++;
        } catch (e) {
          failed++;
          failures.push({ deviceId: d.deviceId, phase, ...described(e) });
        }
        o.progress?.(phase, succeeded.length + failed, failed, devices.length);
      }
    };
    await Promise.all(Array.from({ length: Math.min(o.concurrency, devices.length) }, worker));
    const seconds = (now() - started) / 1000;
    phases.push({
      phase,
      attempted: devices.length,
      succeeded: succeeded.length,
      confirmed,
      seconds,
      perSecond: seconds > 0 ? succeeded.length / seconds : 0,
      p50Ms: percentile(latencies, 0.5),
      p99Ms: percentile(latencies, 0.99),
    });
    devices = succeeded;
  }
  return { phases, failures };
}

function described(e: unknown): { code: ErrorCode; message: string } {
  if (isKeyfleetError(e)) return { code: e.code, message: e.message };
  return { code: "internal", message: e instanceof Error ? e.message : String(e) };
}

/** The report as a table, then each failure (the first 10). */
export function formatFleetReport(report: FleetReport): string {
  const f = (n: number, width: number, digits = 0): string =>
    n.toLocaleString("en", { minimumFractionDigits: digits, maximumFractionDigits: digits }).padStart(width);
  const lines = [
    "phase     devices   succeeded   confirmed   seconds   per second   p50 ms   p99 ms",
    ...report.phases.map(
      (p) =>
        `${p.phase.padEnd(6)}${f(p.attempted, 10)}${f(p.succeeded, 12)}${f(p.confirmed, 12)}${f(p.seconds, 10, 1)}${f(p.perSecond, 13, 1)}${f(p.p50Ms, 9, 1)}${f(p.p99Ms, 9, 1)}`,
    ),
    `${report.failures.length.toLocaleString("en")} failed`,
    ...report.failures.slice(0, 10).map((x) => `  ${x.deviceId} (${x.phase}): ${x.message} (${x.code})`),
  ];
  if (report.failures.length > 10) lines.push(`  … and ${report.failures.length - 10} more`);
  return lines.join("\n");
}
