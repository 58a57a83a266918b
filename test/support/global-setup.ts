/**
 * Jest globalSetup: brings dist/ up to date (transpiles changed files), so `npm test` works on a
 * fresh clone: the e2e tests start the built local host as a child process.
 */
export default function globalSetup(): void {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { ensureBuilt } = require('../../local/host/build.cjs') as {
    ensureBuilt(opts?: { log?: (m: string) => void }): { built: boolean; files: number; ms: number };
  };
  ensureBuilt({ log: (m) => process.stdout.write(`${m}\n`) });
}
