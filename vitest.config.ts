import { defineConfig } from 'vitest/config';

// Two projects so CI runs the fast unit tests first and the end-to-end tests (real processes,
// real load, the real CLI) after them, one file at a time so runs never share the 2 cores.
export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: 'unit',
          include: ['{harness,targets,reports,scenarios}/**/*.test.ts'],
          exclude: ['**/*.e2e.test.ts', 'node_modules/**'],
        },
      },
      {
        test: {
          name: 'e2e',
          include: ['{harness,targets,reports,scenarios}/**/*.e2e.test.ts'],
          fileParallelism: false,
          testTimeout: 120_000,
          hookTimeout: 60_000,
        },
      },
    ],
  },
});
