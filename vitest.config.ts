import { defineConfig } from 'vitest/config';

// Workspace packages export their TypeScript source under this condition, so tests run
// against src/ without a build step.
const resolve = { conditions: ['@archiver/source'] };

export default defineConfig({
  resolve,
  ssr: { resolve: { conditions: ['@archiver/source'] } },
  test: {
    projects: [
      {
        resolve,
        ssr: { resolve: { conditions: ['@archiver/source'] } },
        test: {
          name: 'unit',
          sequence: { groupOrder: 0 },
          include: ['{packages,apps}/*/src/**/*.test.ts', 'test/**/*.test.ts'],
          exclude: ['**/*.int.test.ts', '**/node_modules/**', '**/dist/**'],
        },
      },
      {
        resolve,
        ssr: { resolve: { conditions: ['@archiver/source'] } },
        test: {
          name: 'int',
          // After the unit tests: the two projects run with different parallelism.
          sequence: { groupOrder: 1 },
          include: ['{packages,apps}/*/test/**/*.int.test.ts', 'test/**/*.int.test.ts'],
          globalSetup: ['packages/testkit/src/global-setup.ts'],
          testTimeout: 60_000,
          hookTimeout: 60_000,
          // Integration files start real processes; two cores do not want more in parallel.
          maxWorkers: 2,
        },
      },
    ],
  },
});
