/**
 * What the enrollment and agent tests stand on: a whole Keyfleet app with its hierarchy, serving
 * HTTPS and plain HTTP on free ports, and an EST workspace holding its chain (chain.pem) for the
 * clients; and `agent`, keyfleet-agent's own main with its output lines captured.
 */
import { main } from "../../src/agent/index.js";
import { ensureInitialized } from "../../src/first-run.js";
import { startServers, type RunningServers } from "../../src/http/index.js";
import type { DatabaseKind } from "../../src/store/index.js";
import { testApp, type TestApp, type TestAppOptions } from "./app.js";
import { estWorkspace, type EstWorkspace } from "./est.js";

export interface EnrollmentServer {
  readonly t: TestApp;
  readonly servers: RunningServers;
  readonly est: EstWorkspace;
  dispose(): Promise<void>;
}

export async function enrollmentServer(
  kind: DatabaseKind,
  options: TestAppOptions = {},
): Promise<EnrollmentServer> {
  const t = await testApp(kind, { ...options, config: { httpsPort: 0, httpPort: 0, ...options.config } });
  await ensureInitialized(t.app, { algorithm: "p256" });
  const servers = await startServers(t.app);
  const est = await estWorkspace((await t.app.authority.chain()).pem);
  return {
    t,
    servers,
    est,
    async dispose() {
      await servers.close();
      await est.dispose();
      await t.dispose();
    },
  };
}

export interface AgentRun {
  readonly code: number;
  readonly out: string[];
  readonly err: string[];
}

/** `keyfleet-agent ARGS…`, in process: its exit code and the lines it wrote. */
export async function agent(...args: string[]): Promise<AgentRun> {
  const out: string[] = [];
  const err: string[] = [];
  const code = await main(args, { out: (l) => out.push(l), err: (l) => err.push(l) });
  return { code, out, err };
}
