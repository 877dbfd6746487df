/**
 * The values HCL expressions evaluate to. Plain JSON-like data, because the
 * prepared build model the runtime consumes is plain data too: an HCL string
 * is a JS string, a number a JS number, a tuple/list/set an array, an
 * object/map a plain object with no prototype surprises, null is null.
 *
 * HCL's "unknown" values do not exist here: Packer evaluates its templates
 * fully before a build, and the few values known only at build time
 * (`build.ID`, `build.Host`, ...) are placeholders the build renders later.
 */

/** An evaluated HCL value. */
export type Value =
  | null
  | string
  | number
  | boolean
  | Value[]
  | { [key: string]: Value };

/** An object or map value. */
export type ObjectValue = { [key: string]: Value };

/** True for an object/map value (not an array, not null). */
export function isObject(v: Value | undefined): v is ObjectValue {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/** HCL's name for the kind of a value, as its diagnostics say it ("a number", "tuple", ...). */
export function typeName(v: Value | undefined): string {
  if (v === undefined || v === null) return "null";
  if (Array.isArray(v)) return "tuple";
  if (typeof v === "object") return "object";
  return typeof v;
}

/**
 * Thrown by a function or a conversion when its input is wrong. The
 * evaluator turns it into a diagnostic at the call's (or the argument's) span.
 */
export class ValueError extends Error {
  /** Index of the offending argument of a function call, when one is to blame. */
  readonly argument?: number;
  constructor(message: string, argument?: number) {
    super(message);
    this.name = "ValueError";
    this.argument = argument;
  }
}

/** What a function may need from the world around the expression. */
export interface FunctionContext {
  /** Directory relative paths are resolved against (`path.root`, the configuration's directory). */
  baseDir: string;
  /** The clock, fixed once per evaluation so `timestamp()` is stable within a run. */
  now: Date;
}

/** One function of Packer's HCL library. */
export interface HclFunction {
  /** Fixed parameters (names, for messages). */
  params: readonly string[];
  /** Name of the variadic parameter taking the rest of the arguments, when there is one. */
  variadic?: string;
  /**
   * Receives the evaluated arguments (already counted against `params`);
   * returns the result or throws ValueError.
   */
  call(args: Value[], ctx: FunctionContext): Value;
}
