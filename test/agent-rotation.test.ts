/**
 * Rotation end to end (issue 17, atomic rotation): an operator's bulk rotate job marks an enrolled
 * device; the real agent's renewal loop (`keyfleet-agent run`'s code path) checks in, is told to
 * rotate, renews at once with a new key over EST, and uses the new certificate, which commits the
 * rotation: active → rotating → active, the predecessor revoked as superseded, the request
 * cleared. A later check-in says nothing to do, and the next renewal is the cadence's. The loop
 * runs with the real clock but a sleep that ends the run: nothing waits.
 */
import { X509Certificate, createPrivateKey, sign } from "node:crypto";
import { readFile, readdir } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, expect, test } from "vitest";
import { runAgent } from "../src/agent/index.js";
import { renewalTime } from "../src/domain/index.js";
import type { RunningServers } from "../src/http/index.js";
import { fromPem } from "../src/pki/index.js";
import { systemCaller } from "../src/policy/index.js";
import type { BulkJob } from "../src/registry/index.js";
import type { TestApp } from "./support/app.js";
import { forEachDatabase } from "./support/databases.js";
import type { EstWorkspace } from "./support/est.js";
import { agent, enrollmentServer, type EnrollmentServer } from "./support/enrollment-server.js";

forEachDatabase("rotation told at check-in", (kind) => {
  let t: TestApp;
  let servers: RunningServers;
  let est: EstWorkspace;
  let server: EnrollmentServer;
  beforeAll(async () => {
    server = await enrollmentServer(kind);
    ({ t, servers, est } = server);
  });
  afterAll(async () => {
    await server?.dispose();
  });

  /**
   * A status check signed as an agent from before `rotate` sends it (no `actions`), or naming the
   * actions it knows.
   */
  async function statusAs(dir: string, deviceId: string, actions?: string) {
    const [keyFile] = await readdir(join(dir, "keys"));
    const key = createPrivateKey({
      key: await readFile(join(dir, "keys", keyFile!)),
      format: "der",
      type: "pkcs8",
    });
    const [leaf] = fromPem(await readFile(join(dir, "certificate.pem"), "utf8"), "CERTIFICATE");
    const api = (path: string) => `${servers.httpsUrl}/api/v1/${path}`;
    const { nonce } = JSON.parse((await est.curl(api(`enroll/nonce?device=${deviceId}`), [])).body) as {
      nonce: string;
    };
    const body = {
      deviceId,
      nonce,
      certificate: Buffer.from(leaf!).toString("base64"),
      signature: sign("sha256", Buffer.from(`${nonce}status`), key).toString("base64"),
    };
    const query = actions === undefined ? "" : `?actions=${actions}`;
    const res = await est.curl(api(`enroll/status${query}`), [
      "-X",
      "POST",
      "-H",
      "Content-Type: application/json",
      "--data-binary",
      JSON.stringify(body),
    ]);
    return JSON.parse(res.body) as { action: string; renewAt?: string };
  }

  const serialOf = async (dir: string) =>
    new X509Certificate(await readFile(join(dir, "certificate.pem"))).serialNumber;
  const certificate = (serial: string) =>
    t.db.database.db
      .selectFrom("certificates")
      .selectAll()
      .where("serial", "=", serial)
      .executeTakeFirstOrThrow();

  test("told to rotate, the agent renews at once; the rotation commits, the old certificate is superseded, and the next check-in says nothing to do", async () => {
    const group = `rotate-${kind}`;
    const id = (
      await t.app.devices.register({ serialNumber: `SN-ROTATE-${kind}`, groups: [group] }, systemCaller)
    ).id;
    const { token } = await t.app.bootstrapTokens.create(systemCaller, { deviceId: id });
    const dir = est.path("state-rotate");
    const enrolled = await agent(
      "enroll",
      "--state",
      dir,
      "--server",
      servers.httpsUrl,
      "--device",
      id,
      "--token",
      token,
      "--ca-bundle",
      est.path("chain.pem"),
    );
    expect(enrolled, enrolled.err.join("\n")).toMatchObject({ code: 0, err: [] });
    expect((await t.app.devices.get(id, systemCaller)).state).toBe("active");
    const first = await serialOf(dir);
    const firstRow = await certificate(first);

    // Before any request: nothing to do, due at two thirds of the certificate's life.
    const calm = await agent("check-in", "--state", dir, "--json");
    expect(calm, calm.err.join("\n")).toMatchObject({ code: 0, err: [] });
    expect(JSON.parse(calm.out[0]!)).toEqual({
      state: "active",
      action: "none",
      erased: false,
      renewAt: renewalTime({ notBefore: firstRow.not_before, notAfter: firstRow.not_after }).toISOString(),
    });

    // The operator asks the fleet (this group) to rotate.
    const job = (await t.app.jobs.start("rotate", { group }, systemCaller, {
      reason: "new issuing CA",
    })) as BulkJob;
    expect(await t.app.jobs.run(job.id)).toMatchObject({ state: "done", applied: 1, refused: 0 });
    const told = await agent("check-in", "--state", dir);
    expect(told.out.slice(0, 2)).toEqual(["state:     active", "action:    rotate"]);
    expect(await serialOf(dir)).toBe(first); // a check-in alone renews nothing
    // An agent from before `rotate` (it names no actions) is not told one it would not understand:
    // it renews at its own time. One that names it is told.
    const now = Date.now();
    const old = await statusAs(dir, id);
    expect(old.action).toBe("none");
    expect(Date.parse(old.renewAt!)).toBeLessThanOrEqual(now);
    expect((await statusAs(dir, id, "rotate")).action).toBe("rotate");

    // The agent's loop, as `keyfleet-agent run` runs it: told to rotate, it renews without waiting.
    const lines: string[] = [];
    let stop = false;
    await runAgent(dir, (line) => lines.push(line), {
      now: () => new Date(),
      // The first wait (for the new certificate's renewal time) ends the run.
      sleep: async () => {
        stop = true;
      },
      stopped: () => stop,
      random: () => 0.5,
    });
    const events = lines.map((l) => JSON.parse(l) as { event: string; until?: string });
    expect(events.filter((e) => e.event !== "refreshed").map((e) => e.event)).toEqual(["renewed", "waiting"]);

    const second = await serialOf(dir);
    expect(second).not.toBe(first);
    const history = (await t.app.devices.history(id, systemCaller)).items;
    expect(history.map((e) => [e.command, e.from, e.to])).toEqual([
      ["issue", "registered", "provisioned"],
      ["confirm", "provisioned", "active"],
      ["rotate", "active", "rotating"],
      ["commit", "rotating", "active"],
    ]);
    expect(await certificate(first)).toMatchObject({ status: "revoked", revocation_reason: "superseded" });
    const secondRow = await certificate(second);
    expect(secondRow).toMatchObject({ status: "good", device_id: id });
    expect((await t.app.devices.get(id, systemCaller)).state).toBe("active");
    // The commit satisfied the request.
    expect(
      await t.db.database.db
        .selectFrom("rotation_requests")
        .selectAll()
        .where("device_id", "=", id)
        .execute(),
    ).toEqual([]);
    // The loop then waited for the new certificate's own renewal time.
    const due = renewalTime({ notBefore: secondRow.not_before, notAfter: secondRow.not_after }).toISOString();
    expect(events.at(-1)).toMatchObject({ event: "waiting", until: due });

    const later = await agent("check-in", "--state", dir, "--json");
    expect(JSON.parse(later.out[0]!)).toEqual({
      state: "active",
      action: "none",
      erased: false,
      renewAt: due,
    });
  });
});
