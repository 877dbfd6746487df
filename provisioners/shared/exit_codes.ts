/** `valid_exit_codes`: which exit statuses of a script count as success. */

/** Packer's default: only 0. */
export const DEFAULT_VALID_EXIT_CODES: readonly number[] = [0];

/** A script ended with a status not in `valid_exit_codes` (Packer's message, verbatim). */
export class InvalidExitCodeError extends Error {
  /** The status the script ended with. */
  readonly code: number;
  /** The accepted statuses. */
  readonly allowed: readonly number[];
  constructor(code: number, allowed: readonly number[]) {
    super(
      `Script exited with non-zero exit status: ${code}.Allowed exit codes are: [${
        allowed.join(" ")
      }]`,
    );
    this.name = "InvalidExitCodeError";
    this.code = code;
    this.allowed = allowed;
  }
}

function toCode(value: unknown): number | undefined {
  if (typeof value === "number" && Number.isInteger(value)) return value;
  if (typeof value === "string" && /^-?\d+$/.test(value.trim())) return Number(value.trim());
  return undefined;
}

/** Reports a `valid_exit_codes` value that is not a list of integers. */
export function checkValidExitCodes(
  value: unknown,
  report: (key: string, message: string) => void,
  key = "valid_exit_codes",
): void {
  if (value === undefined) return;
  if (!Array.isArray(value)) {
    report(key, "expected an array of integers, e.g. [0, 2]");
    return;
  }
  for (const item of value) {
    if (toCode(item) === undefined) {
      report(key, `expected an integer exit code, got ${JSON.stringify(item)}`);
    }
  }
}

/** The decoded list (weakly typed as Packer: "2" is 2); empty or absent means [0]. */
export function validExitCodes(value: unknown): number[] {
  if (!Array.isArray(value) || value.length === 0) return [...DEFAULT_VALID_EXIT_CODES];
  return value.map(toCode).filter((c): c is number => c !== undefined);
}

/** Throws InvalidExitCodeError unless `code` is allowed. */
export function assertValidExitCode(code: number, allowed: readonly number[]): void {
  if (!allowed.includes(code)) throw new InvalidExitCodeError(code, allowed);
}
