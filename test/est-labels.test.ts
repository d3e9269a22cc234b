/**
 * EST labels (RFC 7030 §3.2.2) over the real HTTPS listener, with curl: a label is a certificate
 * profile for the device or the device's own tenant. A profile label applies that profile's rules
 * (tls-server wants a DNS or IP name); a label that is neither is refused before anything is spent,
 * so the bootstrap token still enrolls the device afterwards.
 */
import { afterAll, beforeAll, expect, test } from "vitest";
import type { RunningServers } from "../src/http/index.js";
import { systemCaller } from "../src/policy/index.js";
import type { TestApp } from "./support/app.js";
import { forEachDatabase } from "./support/databases.js";
import type { EstWorkspace } from "./support/est.js";
import { enrollmentServer, type EnrollmentServer } from "./support/enrollment-server.js";

forEachDatabase("EST labels", (kind) => {
  let t: TestApp;
  let servers: RunningServers;
  let est: EstWorkspace;
  const enrollAt = (label: string, name: string, user: string) =>
    est.curl(`${servers.httpsUrl}/.well-known/est/${label}/simpleenroll`, [
      "-H",
      "Content-Type: application/pkcs10",
      "--data-binary",
      `@${est.path(`${name}.csr.b64`)}`,
      "-u",
      user,
    ]);
  const certificates = async (deviceId: string) =>
    (
      await t.db.database.db
        .selectFrom("certificates")
        .select("serial")
        .where("device_id", "=", deviceId)
        .execute()
    ).length;
  const device = async (serial: string) => {
    const id = (await t.app.devices.register({ serialNumber: serial, tenant: "plant-7" }, systemCaller)).id;
    const { token } = await t.app.bootstrapTokens.create(systemCaller, { deviceId: id });
    await est.key(serial);
    await est.csr(serial, `/CN=${serial}`);
    return { id, user: `${id}:${token}` };
  };
  let server: EnrollmentServer;
  beforeAll(async () => {
    server = await enrollmentServer(kind);
    ({ t, servers, est } = server);
  });
  afterAll(async () => {
    await server?.dispose();
  });

  test("the device's tenant as label enrolls it with its default profile", async () => {
    const d = await device("SN-LABEL-TENANT");
    const answer = await enrollAt("plant-7", "SN-LABEL-TENANT", d.user);
    expect(answer.status, answer.body).toBe(200);
    expect((await est.verify(await est.certificatesOf(answer.body))).stdout).toContain("OK");
    expect(await certificates(d.id)).toBe(1);
  });

  test("a profile label gives that profile, with its rules: the device profile enrolls, tls-server wants a DNS or IP name", async () => {
    const d = await device("SN-LABEL-PROFILE");
    const refused = await enrollAt("tls-server", "SN-LABEL-PROFILE", d.user);
    expect(refused.status).toBe(400);
    expect(refused.contentType).toMatch(/^text\/plain/);
    expect(refused.body).toBe(
      'keyfleet: profile "tls-server": the subject CN SN-LABEL-PROFILE must also be one of its subject alternative names (CA/Browser Forum BR §7.1.4.3) (profile-violation)\n',
    );
    expect(await certificates(d.id)).toBe(0);
    const answer = await enrollAt("device", "SN-LABEL-PROFILE", d.user); // the token was not spent
    expect(answer.status, answer.body).toBe(200);
    expect(await certificates(d.id)).toBe(1);
  });

  test("a label that is neither a profile nor the device's tenant is refused, and spends nothing", async () => {
    const d = await device("SN-LABEL-OTHER");
    for (const label of ["plant-8", "client"]) {
      const refused = await enrollAt(label, "SN-LABEL-OTHER", d.user);
      expect(refused.status, label).toBe(404);
      expect(refused.body).toBe(
        `keyfleet: EST label "${label}" is neither a certificate profile (device, tls-server) nor the tenant of device "${d.id}" (not-found)\n`,
      );
    }
    expect(await certificates(d.id)).toBe(0);
    expect((await t.app.devices.get(d.id, systemCaller)).state).toBe("registered");
    const answer = await enrollAt("plant-7", "SN-LABEL-OTHER", d.user);
    expect(answer.status, answer.body).toBe(200);
  });
});
