import { expect, test } from "vitest";
import { refusalLimiter } from "./refusal-limiter.js";

test("one leaf a minute per kind of refusal, carrying how many went unrecorded since", () => {
  let now = 0;
  const limiter = refusalLimiter({ windowMs: 60_000, perMinute: 100, maxKinds: 10 }, () => now);
  expect(limiter.admit("anonymous GET /x unauthorized 10.0.0.1")).toEqual({
    record: true,
    unrecordedBefore: 0,
  });
  for (let i = 0; i < 500; i++)
    expect(limiter.admit("anonymous GET /x unauthorized 10.0.0.1").record).toBe(false);
  expect(limiter.admit("anonymous GET /x unauthorized 10.0.0.2").record).toBe(true); // another kind
  now = 60_000;
  expect(limiter.admit("anonymous GET /x unauthorized 10.0.0.1")).toEqual({
    record: true,
    unrecordedBefore: 500,
  });
});

test("at most perMinute leaves a minute in all; the rest are counted into their kind's next leaf", () => {
  let now = 0;
  const limiter = refusalLimiter({ windowMs: 60_000, perMinute: 3, maxKinds: 100 }, () => now);
  const recorded = Array.from({ length: 10 }, (_, i) => limiter.admit(`kind ${i}`).record);
  expect(recorded.filter(Boolean)).toHaveLength(3);
  now = 60_000;
  expect(limiter.admit("kind 9")).toEqual({ record: true, unrecordedBefore: 1 });
});

test("remembers a bounded number of kinds", () => {
  const limiter = refusalLimiter({ windowMs: 60_000, perMinute: 1000, maxKinds: 2 }, () => 0);
  limiter.admit("a");
  limiter.admit("b");
  limiter.admit("c"); // forgets "a"
  expect(limiter.admit("a").record).toBe(true);
});
