/**
 * The lifecycle's deadlines (issue 17): a rotation left uncommitted past its time is aborted — the
 * successor revoked, the predecessor the one good credential — and a decommissioning past its
 * grace is finalized; before their time, and for devices that moved on, nothing happens. Each is
 * a transition by `system` with its reason. On PGlite and PostgreSQL, with a clock the test moves.
 */
import { afterAll, beforeAll, expect, test } from "vitest";
import { fixedClock } from "../src/domain/index.js";
import { ensureInitialized } from "../src/first-run.js";
import { deviceCaller, systemCaller } from "../src/policy/index.js";
import { testApp, type TestApp } from "./support/app.js";
import { forEachDatabase } from "./support/databases.js";
import { opensslCsr, workdir, type Workdir } from "./support/openssl.js";

forEachDatabase("lifecycle timers", (kind) => {
  const clock = fixedClock(new Date().toISOString());
  let t: TestApp;
  let dir: Workdir;

  /** An active device with one certificate; `rotating` also issues it a successor (not yet used). */
  const device = async (serialNumber: string, rotating = false) => {
    const id = (await t.app.devices.register({ serialNumber }, systemCaller)).id;
    const csr = await opensslCsr(dir, "p256", `/CN=${serialNumber}`);
    const first = await t.app.devices.issue({ csr, deviceId: id }, systemCaller);
    await t.app.devices.apply(id, { kind: "confirm" }, systemCaller, {
      evidence: [{ kind: "proof-of-possession", ref: "test" }],
    });
    const successor = rotating
      ? await t.app.devices.issue(
          { csr: await opensslCsr(dir, "p256", `/CN=${serialNumber}`), deviceId: id },
          systemCaller,
        )
      : undefined;
    return { id, first: first.serial, successor: successor?.serial };
  };
  const statusOf = async (serial: string) => (await t.app.authority.certificate(serial)).status;
  const stateOf = async (id: string) => (await t.app.devices.get(id, systemCaller)).state;

  beforeAll(async () => {
    t = await testApp(kind, { clock });
    await ensureInitialized(t.app, { algorithm: "p256" });
    dir = await workdir();
  });
  afterAll(async () => {
    await dir?.dispose();
    await t?.dispose();
  });

  test("an uncommitted rotation is aborted after a day: the successor revoked, the predecessor good", async () => {
    const stale = await device("SN-TIMER-ROT", true);
    const committed = await device("SN-TIMER-COMMIT", true);
    expect(await stateOf(stale.id)).toBe("rotating");
    await t.app.devices.confirmCredential(committed.id, committed.successor!, deviceCaller(committed.id), []);
    expect(await stateOf(committed.id)).toBe("active");

    clock.advance(23 * 3600);
    expect((await t.app.devices.expireTimers()).aborted).toEqual([]);
    clock.advance(2 * 3600);
    const { aborted } = await t.app.devices.expireTimers();
    expect(aborted).toEqual([stale.id]);
    expect(await stateOf(stale.id)).toBe("active");
    expect(await statusOf(stale.successor!)).toBe("revoked");
    expect(await statusOf(stale.first)).toBe("good");
    expect(await statusOf(committed.successor!)).toBe("good");
    const history = await t.app.devices.history(stale.id, systemCaller);
    expect(history.items.at(-1)).toMatchObject({
      command: "abort",
      actor: "system",
      reason: expect.stringContaining("not used within 24 h"),
    });
    expect((await t.app.devices.expireTimers()).aborted).toEqual([]); // done once
  });

  test("a decommissioning is finalized when its grace ends, not before; a cancelled one is left alone", async () => {
    const retiring = await device("SN-TIMER-RETIRE");
    const cancelled = await device("SN-TIMER-CANCEL");
    await t.app.devices.apply(retiring.id, { kind: "retire" }, systemCaller);
    await t.app.devices.apply(cancelled.id, { kind: "retire" }, systemCaller);
    await t.app.devices.apply(cancelled.id, { kind: "cancel" }, systemCaller);
    clock.advance(6 * 24 * 3600);
    expect((await t.app.devices.expireTimers()).finalized).toEqual([]);
    clock.advance(2 * 24 * 3600);
    expect((await t.app.devices.expireTimers()).finalized).toEqual([retiring.id]);
    expect(await stateOf(retiring.id)).toBe("decommissioned");
    expect(await statusOf(retiring.first)).toBe("revoked");
    expect(await stateOf(cancelled.id)).toBe("suspended");
  });
});
