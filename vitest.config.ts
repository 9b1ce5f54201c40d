import { defineConfig } from 'vitest/config';

// Two projects: `unit` (everything that needs no browser; may start the embedded emulator and ffmpeg)
// and `e2e` (drives Debian's Chromium against the real local stack).
export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: 'unit',
          include: ['**/*.test.ts'],
          exclude: ['**/node_modules/**', '**/*.e2e.test.ts', '**/.next/**', '.data/**', '.tmp*/**'],
          testTimeout: 60_000,
          hookTimeout: 120_000,
        },
      },
      {
        test: {
          name: 'e2e',
          include: ['**/*.e2e.test.ts'],
          exclude: ['**/node_modules/**', '.data/**', '.tmp*/**'],
          testTimeout: 180_000,
          hookTimeout: 300_000,
          fileParallelism: false,
        },
      },
    ],
  },
});
