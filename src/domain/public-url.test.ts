import { expect, test } from "vitest";
import { checkPublicUrl } from "./public-url.js";

test("keeps a public URL in its normalized ASCII form, without trailing slashes", () => {
  expect(checkPublicUrl("http://pki.example.test:8080/")).toBe("http://pki.example.test:8080");
  expect(checkPublicUrl("HTTP://Example.COM:80/pki/")).toBe("http://example.com/pki");
  expect(checkPublicUrl("https://exämple.com")).toBe("https://xn--exmple-cua.com");
});

test.each([
  "ftp://x",
  "not a url",
  "http:host",
  "http:\\\\evil.com\\x",
  " http://host",
  "http://ho st",
  "http://exa\tmple.com",
  "http://host/%zz",
  "http://host/?",
  "http://host/#",
  "http://host/?q=1",
  "http://user:pw@host",
])("refuses %j", (url) => {
  expect(() => checkPublicUrl(url)).toThrow(expect.objectContaining({ code: "invalid-configuration" }));
});
