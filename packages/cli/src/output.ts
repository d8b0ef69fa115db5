/** Prints JSON with --json, else the human text. */
export function print(json: boolean | undefined, value: unknown, human: () => string): void {
  process.stdout.write(json ? `${JSON.stringify(value, null, 2)}\n` : `${human()}\n`);
}

export class CliError extends Error {}

/** Stops the command with a message for the person (exit code 1, no stack trace). */
export function fail(message: string): never {
  throw new CliError(message);
}
