import { describe, expect, test } from "vitest";
import { isKeyfleetError } from "../domain/index.js";
import { integer } from "./der.js";
import { newSerial, serialFromHex, serialToHex } from "./serial.js";

function checkDer(serial: Uint8Array): void {
  const der = integer(serial); // 02 len content
  const content = der.subarray(2);
  expect(der[1]).toBe(content.length);
  expect(content.length).toBeLessThanOrEqual(20); // RFC 5280 §4.1.2.2
  expect(content[0]! & 0x80).toBe(0); // positive
  expect(content[0] === 0 && content.length > 1 && !(content[1]! & 0x80)).toBe(false); // minimal: no superfluous 00
  expect(content.some((b) => b !== 0)).toBe(true); // never zero
}

describe("newSerial", () => {
  test("is 16 octets, positive, minimal, non-zero and never starts 00 00, from the CSPRNG", () => {
    const seen = new Set<string>();
    for (let i = 0; i < 2000; i++) {
      const s = newSerial();
      expect(s).toHaveLength(16);
      expect(s[0]).not.toBe(0);
      checkDer(s);
      seen.add(serialToHex(s));
    }
    expect(seen.size).toBe(2000);
  });

  test("with a source of all 0xff bytes clears the top bit rather than prepending 00", () => {
    const s = newSerial((n) => new Uint8Array(n).fill(0xff));
    expect(serialToHex(s)).toBe("7F" + "FF".repeat(15));
    expect(Buffer.from(integer(s)).toString("hex")).toBe("0210" + "7f" + "ff".repeat(15));
    checkDer(s);
  });

  test("with a source of all zero bytes is still 16 octets and non-zero", () => {
    const s = newSerial((n) => new Uint8Array(n));
    expect(serialToHex(s)).toBe("40" + "00".repeat(15));
    expect(integer(s)).toHaveLength(18);
    checkDer(s);
  });

  test("does not change the random source's buffer", () => {
    const buffer = new Uint8Array(16).fill(0xff);
    newSerial(() => buffer);
    expect(buffer.every((b) => b === 0xff)).toBe(true);
  });
});

describe("serial hex", () => {
  test("round-trips and prints upper case like openssl", () => {
    for (let i = 0; i < 200; i++) {
      const s = newSerial();
      const h = serialToHex(s);
      expect(h).toMatch(/^[0-9A-F]{32}$/);
      expect(serialFromHex(h)).toEqual(s);
      expect(serialFromHex(h.toLowerCase())).toEqual(s);
    }
  });

  test("prints a serial with the top bit set without the DER's leading 00, and reads it back", () => {
    expect(serialToHex(Uint8Array.of(0x00, 0x80, 0x01))).toBe("8001");
    expect(serialFromHex("8001")).toEqual(Uint8Array.of(0x80, 0x01));
    expect(serialFromHex("008001")).toEqual(Uint8Array.of(0x80, 0x01));
    expect(serialFromHex("A")).toEqual(Uint8Array.of(0x0a));
  });

  test.each(["", "00", "0000", "xyz", "12 34", "0x12", "7F".padEnd(42, "F"), "80".padEnd(40, "0")])(
    "refuses %j with malformed-request",
    (h) => {
      let error: unknown;
      try {
        serialFromHex(h);
      } catch (e) {
        error = e;
      }
      expect(isKeyfleetError(error, "malformed-request")).toBe(true);
    },
  );

  test("accepts the largest RFC 5280 serial: 20 octets, top bit clear", () => {
    expect(serialFromHex("7F".padEnd(40, "F"))).toHaveLength(20);
  });

  test("reads the colon form of openssl x509 -text, in either case and with a leading 00:", () => {
    expect(serialFromHex("4f:1a:0b")).toEqual(Uint8Array.of(0x4f, 0x1a, 0x0b));
    expect(serialFromHex("4F:1A:0B")).toEqual(Uint8Array.of(0x4f, 0x1a, 0x0b));
    expect(serialFromHex("00:80:01")).toEqual(Uint8Array.of(0x80, 0x01));
    for (let i = 0; i < 50; i++) {
      const s = newSerial();
      const colons = Buffer.from(s).toString("hex").match(/../g)!.join(":");
      expect(serialFromHex(colons)).toEqual(s);
      expect(serialFromHex(`00:${colons.toUpperCase()}`)).toEqual(s);
    }
    // 20 octets with colons is in range; 21 (or 20 with the top bit set) is not.
    expect(serialFromHex(Array(20).fill("7f").join(":"))).toHaveLength(20);
    expect(() => serialFromHex(Array(21).fill("7f").join(":"))).toThrow(
      expect.objectContaining({ code: "malformed-request" }),
    );
  });

  test.each([
    "4f::1a",
    ":4f",
    "4f:",
    "4f:1",
    "4f:1a:",
    "4f:1a:b",
    "4f-1a",
    "4f 1a",
    "4f:xy",
    "00:00",
    "serial=4F",
  ])("refuses the malformed colon form %j with malformed-request", (h) => {
    expect(() => serialFromHex(h)).toThrow(
      expect.objectContaining({ code: "malformed-request", message: expect.stringContaining("serial") }),
    );
  });
});
