/**
 * The command line's own error: a bad argument or option (as opposed to the library's LrpErrors
 * for bad models and inputs). Exit code 2 for usage errors, 1 for everything else.
 */
import { LrpError } from '../errors.js';

export class CliError extends LrpError {
  constructor(
    message: string,
    readonly exitCode = 1,
    code = exitCode === 2 ? 'E_USAGE' : 'E_CLI',
  ) {
    super(code, message);
    this.name = 'CliError';
  }
}

/** A usage error (unknown option, missing argument, bad option value): exit code 2. */
export const usageError = (message: string) => new CliError(message, 2);

/** The one line printed for any error: no stack, no newlines. */
export function errorLine(e: unknown): string {
  const msg = e instanceof Error ? e.message : String(e);
  return `lrp: error: ${msg.replace(/\s*\n\s*/g, '; ').trim()}`;
}

/** Exit code for an error thrown anywhere in a command. */
export function exitCodeOf(e: unknown): number {
  return e instanceof CliError ? e.exitCode : 1;
}
