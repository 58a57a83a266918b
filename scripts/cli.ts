/** What the command-line tools in scripts/ share: where they write, usage errors, and the process runner. */

/** Where a CLI writes: stdout and stderr, or captures in tests. */
export interface CliIo {
  out: { write(text: string): unknown };
  err: { write(text: string): unknown };
}

export const processIo: CliIo = { out: process.stdout, err: process.stderr };

/** A usage error (exit 64): the CLI prints its message, then the usage text. */
export class UsageError extends Error {}

/**
 * Runs `main` when `mod` is the process's entry module: its result is the exit code; an unexpected
 * error prints `<name>: message` (never a stack with input values) and exits 1.
 */
export function runAsMain(mod: NodeJS.Module, name: string, main: (argv: string[]) => Promise<number>): void {
  if (require.main !== mod) return;
  main(process.argv.slice(2)).then(
    (code) => {
      process.exitCode = code;
    },
    (err: unknown) => {
      process.stderr.write(`${name}: ${err instanceof Error ? err.message : String(err)}\n`);
      process.exitCode = 1;
    },
  );
}
