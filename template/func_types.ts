/** The shape of a template function: what it sees, what it takes, how it fails. */
import type { RenderBudget } from "./render_budget.ts";

/** What the functions can see while a string renders. */
export interface FuncContext {
  variables: Record<string, string>;
  templateDir: string;
  buildName?: string;
  buildType?: string;
  /** Values for `build \`Key\``; absent until the build's instance exists. */
  buildData?: Record<string, string>;
  /** Rendering a user variable's default: env allowed, unknown `user` is an error. */
  inVariables?: boolean;
  /** A function that builds a string checks it against this while it grows. */
  budget: RenderBudget;
}

/** An argument kind a function declares: Go checks them before calling. */
export type ParamKind = "string" | "int" | "any";

/** One template function. */
export interface FuncSpec {
  params: ParamKind[];
  /** Kind of any number of extra arguments (isotime, printf, ...). */
  variadic?: ParamKind;
  call(args: unknown[], ctx: FuncContext): unknown;
}

/** Error raised by a function body; the executor wraps it as `error calling NAME: ...`. */
export class FuncError extends Error {}
