/**
 * `keyfleet-agent run`: the renewal loop (renewal-loop.ts) on the state directory. Each check-in
 * refreshes the kept CRL and OCSP response, asks the server what the device is to do (erasing when
 * told to) and hands the loop the server's due time for the current certificate (`rotate`: now).
 * Time, sleep and stop come in as parameters: the command gives the real ones (a signal stops it),
 * a test its own.
 */
import { checkIn } from "./erase.js";
import { renew, status } from "./renew.js";
import { renewalLoop, type RenewalLoopDeps } from "./renewal-loop.js";
import { refreshRevocation } from "./revocation-cache.js";

export type RunControls = Pick<RenewalLoopDeps, "now" | "sleep" | "stopped" | "random"> &
  Partial<Pick<RenewalLoopDeps, "checkInEveryMs">>;

/** Renews by itself until stopped, or until the device erased its keys; every event a JSON line on `out`. */
export async function runAgent(
  stateDir: string,
  out: (line: string) => void,
  controls: RunControls,
): Promise<void> {
  await renewalLoop({
    ...controls,
    renewAt: async () => (await status(stateDir)).renewAt,
    renew: async () => void (await renew(stateDir)),
    checkIn: async () => {
      const refreshed = await refreshRevocation(stateDir);
      if (refreshed.crl.status !== "fresh" || refreshed.ocsp.status !== "fresh") {
        out(JSON.stringify({ event: "refreshed", at: controls.now(), ...refreshed }));
      }
      const answer = await checkIn(stateDir);
      return {
        retired: answer.erase !== undefined,
        renewAt: answer.renewAt,
        rotate: answer.action === "rotate",
      };
    },
    report: (e) => out(JSON.stringify(e)),
  });
}
