import { describe, expect, test } from "vitest";
import { formatPkcs11Uri, parsePkcs11Uri } from "./pkcs11-uri.js";

describe("PKCS#11 URIs (RFC 7512)", () => {
  test("writes token, object and id, the id percent-encoded", () => {
    const uri = formatPkcs11Uri({
      token: "device token",
      object: "agent;key",
      id: Uint8Array.of(0xa1, 0x02),
    });
    expect(uri).toBe("pkcs11:token=device%20token;object=agent%3Bkey;id=%a1%02");
    expect(parsePkcs11Uri(uri)).toEqual({
      token: "device token",
      object: "agent;key",
      id: Uint8Array.of(0xa1, 0x02),
    });
  });

  test("reads the RFC 7512 §3 example's path attributes", () => {
    expect(parsePkcs11Uri("pkcs11:token=The%20Software%20PKCS%2311%20Softtoken;object=my-key")).toEqual({
      token: "The Software PKCS#11 Softtoken",
      object: "my-key",
    });
  });

  test.each([
    ["file:x", /scheme/],
    ["pkcs11:object=k", /no token/],
    ["pkcs11:token=a;token=b", /twice/],
    ["pkcs11:token=a;pin-value=1234", /unsupported attribute/],
    ["pkcs11:token=a?pin-source=file:/p", /query/],
    ["pkcs11:token=a;id=%zz", /percent-encoding/],
  ])("refuses %s", (uri, message) => {
    expect(() => parsePkcs11Uri(uri)).toThrow(message);
  });
});
