import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["src/**/*.test.ts", "test/**/*.test.ts"],
    globalSetup: ["test/support/global-setup.ts"],
    setupFiles: ["test/support/setup.ts"],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    // Two cores: one PGlite (≈0.7 s to open, hundreds of MiB) per worker is the budget.
    pool: "forks",
    maxWorkers: 2,
  },
});
