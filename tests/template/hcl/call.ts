/** Calling library functions the way the evaluator will: arguments counted, then `call`. */
import { FUNCTIONS } from "../../../template/hcl/functions/mod.ts";
import type { FunctionContext, Value } from "../../../template/hcl/value.ts";
import { ValueError } from "../../../template/hcl/value.ts";

/** A context at a fixed instant, relative paths under `baseDir`. */
export function context(
  baseDir = Deno.cwd(),
  now = new Date("2026-01-02T03:04:05Z"),
): FunctionContext {
  return { baseDir, now };
}

/** Calls function `name`, checking the argument count as the evaluator does. */
export function call(name: string, args: Value[], ctx = context()): Value {
  const f = FUNCTIONS[name];
  if (!f) throw new Error(`no function ${name}`);
  const n = f.params.length;
  if (args.length < n || (!f.variadic && args.length > n)) {
    throw new Error(`${name}: wrong argument count ${args.length}`);
  }
  return f.call(args, ctx);
}

/** The ValueError a call throws (fails the test when it returns or throws anything else). */
export function callError(name: string, args: Value[], ctx = context()): ValueError {
  try {
    const v = call(name, args, ctx);
    throw new Error(
      `${name}(${JSON.stringify(args)}) returned ${JSON.stringify(v)}; expected an error`,
    );
  } catch (e) {
    if (e instanceof ValueError) return e;
    throw e;
  }
}
