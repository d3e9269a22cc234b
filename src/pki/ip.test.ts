import { isIP } from "node:net";
import { describe, expect, test } from "vitest";
import { formatIp, parseIp } from "./ip.js";

const hex = (b: Uint8Array | undefined): string | undefined =>
  b ? Buffer.from(b).toString("hex") : undefined;

describe("parseIp", () => {
  test("reads IPv4 and every IPv6 text form", () => {
    expect(hex(parseIp("192.0.2.1"))).toBe("c0000201");
    expect(hex(parseIp("::1"))).toBe("00000000000000000000000000000001");
    expect(hex(parseIp("::"))).toBe("0".repeat(32));
    expect(hex(parseIp("2001:db8::8:800:200c:417a"))).toBe(
      "20010db8000000000008080020 0c417a".replace(" ", ""),
    );
    expect(hex(parseIp("2001:DB8:0:0:0:0:0:1"))).toBe("20010db8000000000000000000000001");
    expect(hex(parseIp("::ffff:192.0.2.1"))).toBe("00000000000000000000ffffc0000201");
    expect(hex(parseIp("fe80::"))).toBe("fe80" + "0".repeat(28));
  });

  test("refuses what is not exactly an address, agreeing with node:net", () => {
    for (const bad of [
      "",
      "1.2.3",
      "1.2.3.4.5",
      "256.1.1.1",
      "01.2.3.4",
      "1.2.3.4/24",
      ":::",
      "1::2::3",
      "1:2:3:4:5:6:7:8:9",
      "1:2:3:4:5:6:7",
      "::g",
      "fe80::1%eth0",
      "12345::",
      "1:2:3:4:5:6:7::8",
    ]) {
      expect(parseIp(bad), bad).toBeUndefined();
    }
    for (const good of [
      "0.0.0.0",
      "255.255.255.255",
      "1::",
      "1:2:3:4:5:6:7::",
      "::2:3:4:5:6:7:8",
      "1:2:3:4:5:6:1.2.3.4",
    ]) {
      expect(parseIp(good), good).toBeDefined();
      expect(isIP(good)).not.toBe(0);
    }
  });
});

describe("formatIp", () => {
  test("writes RFC 5952 canonical text and round-trips", () => {
    const cases: [string, string][] = [
      ["2001:DB8:0:0:0:0:0:1", "2001:db8::1"],
      ["2001:db8:0:0:1:0:0:1", "2001:db8::1:0:0:1"],
      ["2001:db8:0:1:1:1:1:1", "2001:db8:0:1:1:1:1:1"],
      ["0:0:0:0:0:0:0:1", "::1"],
      ["1:0:0:0:0:0:0:0", "1::"],
      ["192.0.2.33", "192.0.2.33"],
    ];
    for (const [input, canonical] of cases) {
      expect(formatIp(parseIp(input)!)).toBe(canonical);
      expect(formatIp(parseIp(canonical)!)).toBe(canonical);
    }
  });
});
