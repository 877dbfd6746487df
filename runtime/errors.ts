/** Error helpers shared by the runtime: one clear line, never a stack trace. */

/** The message of any thrown value. */
export function errorMessage(err: unknown): string {
  if (err instanceof Error) return err.message;
  return String(err);
}

/** A provisioner failed (so error-cleanup-provisioner applies). */
export class ProvisioningError extends Error {
  /** Index of the failed provisioner in the template. */
  readonly index: number;
  constructor(index: number, message: string) {
    super(message);
    this.name = "ProvisioningError";
    this.index = index;
  }
}

/** The user asked for something the run's state forbids (resume of a changed template, ...). */
export class RunRefusedError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "RunRefusedError";
  }
}

/**
 * A deletion kiln will not perform: the thing is not provably this run's
 * (changed since it was made, existed before, outside the template's
 * outputs). It is left alone and released from the ledger, never retried.
 */
export class DeletionRefused extends Error {
  constructor(message: string) {
    super(message);
    this.name = "DeletionRefused";
  }
}

/** `kiln <command>: <message>` for the run commands, never a stack trace. */
export function formatCliError(command: string, err: unknown): string {
  const usage = err instanceof Error && err.name === "ArgsError"
    ? ` (see kiln ${command} -help)`
    : "";
  return `kiln ${command}: ${errorMessage(err)}${usage}`;
}
