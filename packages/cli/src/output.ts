/** Prints JSON with --json, else the human text. */
export function print(json: boolean | undefined, value: unknown, human: () => string): void {
  process.stdout.write(json ? `${JSON.stringify(value, null, 2)}\n` : `${human()}\n`);
}

export class CliError extends Error {}

/** Stops the command with a message for the person (exit code 1, no stack trace). */
export function fail(message: string): never {
  throw new CliError(message);
}

// Errors whose message is written for a person (the service's own, thrown by the admin commands).
const PERSON_FACING = new Set([
  'CliError',
  'ProjectError',
  'SettingsError',
  'AdminPasswordError',
  'TeamError',
]);

/**
 * The CLI's last word on a failure: one line, exit code 1. Unexpected errors say so and keep the stack for
 * SNAPWIRE_DEBUG=1, so a person never has to read a Node stack trace.
 */
export function reportFailure(error: unknown): never {
  const known =
    error instanceof Error && (error instanceof CliError || PERSON_FACING.has(error.constructor.name));
  if (known) {
    process.stderr.write(`snapwire: ${error.message}\n`);
  } else if (process.env.SNAPWIRE_DEBUG) {
    process.stderr.write(`snapwire: ${(error as Error)?.stack ?? String(error)}\n`);
  } else {
    process.stderr.write(
      `snapwire: unexpected failure: ${(error as Error)?.message ?? String(error)} (SNAPWIRE_DEBUG=1 shows the stack trace)\n`,
    );
  }
  process.exit(1);
}
