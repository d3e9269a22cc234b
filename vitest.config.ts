import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["src/**/*.test.ts", "test/**/*.test.ts"],
    globalSetup: ["test/support/global-setup.ts"],
    setupFiles: ["test/support/setup.ts"],
    // Limits far past any test's idle duration (the slowest, a server and a dozen commands, ≈ 20 s):
    // a loaded 2-core machine runs them several times slower, and a limit only has to catch a hang.
    testTimeout: 300_000,
    hookTimeout: 300_000,
    // Two cores: one PGlite (≈0.7 s to open, hundreds of MiB) per worker is the budget.
    pool: "forks",
    maxWorkers: 2,
  },
});
