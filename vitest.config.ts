import { defineConfig } from "vitest/config";

// Three tiers, each its own script (see package.json). Integration and e2e
// start real services (sshd, the Pulumi CLI) and run one file at a time: the
// machine has two cores and the suites are I/O heavy, not CPU heavy.
export default defineConfig({
  test: {
    projects: [
      { test: { name: "unit", include: ["test/unit/**/*.test.ts"] } },
      {
        test: {
          name: "integration",
          include: ["test/integration/**/*.test.ts"],
          testTimeout: 120_000,
          hookTimeout: 120_000,
          fileParallelism: false,
        },
      },
      {
        test: {
          name: "e2e",
          include: ["test/e2e/**/*.test.ts"],
          testTimeout: 600_000,
          hookTimeout: 600_000,
          fileParallelism: false,
        },
      },
    ],
  },
});
