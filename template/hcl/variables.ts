/**
 * Input variables of an HCL configuration: `variable` blocks, their values
 * from defaults, `PKR_VAR_*`, `*.auto.pkrvars.hcl`, `-var-file` and `-var`
 * (later sources win, as Packer documents), type conversion, `sensitive`
 * and `validation` blocks.
 */
import type { Block, Expr, HclFile, Range } from "./ast.ts";
import { type Diagnostic, DiagnosticError, error } from "./diagnostic.ts";
import { evaluate, nearest, type Scope } from "./eval.ts";
import { convert, type Type, typeString } from "./types.ts";
import { typeFromExpr } from "./type_expr.ts";
import { type ObjectValue, type Value, ValueError } from "./value.ts";
import { parseHcl } from "./syntax.ts";
import { jsonValue, parseJsonTree } from "./json_tree.ts";

/** A declared input variable. */
export interface VariableDecl {
  name: string;
  type: Type;
  /** Undefined: the variable is required. */
  default?: Value;
  description?: string;
  sensitive: boolean;
  validations: { condition: Expr; message: Expr; range: Range }[];
  range: Range;
}

/** A value given for a variable from outside the configuration. */
export interface VariableInput {
  name: string;
  /** An evaluated value (var files), or text to read by the variable's type (flags, env). */
  value: { value: Value } | { text: string };
  /** Where it came from, for messages: a var file's range, `-var` or `PKR_VAR_x`. */
  origin: { range: Range } | { label: string };
  /** Undeclared names from -var are errors; from files only warnings; from env ignored. */
  strictness: "error" | "warning" | "ignore";
}

const VARIABLE_KEYS = new Set(["type", "default", "description", "sensitive", "validation"]);

/** Reads every `variable` block. `scope` evaluates defaults (functions and `env` only). */
export function declareVariables(files: HclFile[], scope: Scope): Map<string, VariableDecl> {
  const out = new Map<string, VariableDecl>();
  const problems: Diagnostic[] = [];
  for (const file of files) {
    // The plural form `variables { name = default }` declares untyped variables.
    for (const block of file.body.blocks.filter((b) => b.type === "variables")) {
      for (const a of block.body.attributes) {
        try {
          const decl: VariableDecl = {
            name: a.name,
            type: "any",
            default: evaluate(a.expr, scope),
            sensitive: false,
            validations: [],
            range: a.range,
          };
          if (out.has(a.name)) {
            problems.push(
              error(
                "Duplicate variable",
                `Duplicate ${a.name} variable definition found.`,
                a.nameRange,
              ),
            );
          } else out.set(a.name, decl);
        } catch (err) {
          if (!(err instanceof DiagnosticError)) throw err;
          problems.push(...err.diagnostics);
        }
      }
    }
    for (const block of file.body.blocks.filter((b) => b.type === "variable")) {
      try {
        const decl = declareOne(block, scope);
        const before = out.get(decl.name);
        if (before) {
          problems.push(error(
            "Duplicate variable",
            `Duplicate ${decl.name} variable definition found (first at ${before.range.file}:${before.range.start.line}).`,
            block.labelRanges[0],
          ));
        } else out.set(decl.name, decl);
      } catch (err) {
        if (!(err instanceof DiagnosticError)) throw err;
        problems.push(...err.diagnostics);
      }
    }
  }
  if (problems.length > 0) throw new DiagnosticError(problems);
  return out;
}

function declareOne(block: Block, scope: Scope): VariableDecl {
  if (block.labels.length !== 1) {
    throw new DiagnosticError([
      error(
        "Missing name for variable",
        "All variable blocks must have 1 label (the name).",
        block.typeRange,
      ),
    ]);
  }
  const name = block.labels[0];
  if (!/^[A-Za-z_][A-Za-z0-9_-]*$/.test(name)) {
    throw new DiagnosticError([
      error(
        "Invalid variable name",
        "A name must start with a letter or underscore and may contain only letters, digits, underscores, and dashes.",
        block.labelRanges[0],
      ),
    ]);
  }
  const problems: Diagnostic[] = [];
  const attr = (k: string) => block.body.attributes.find((a) => a.name === k);
  for (const a of block.body.attributes) {
    if (!VARIABLE_KEYS.has(a.name)) {
      problems.push(
        error(
          "Unsupported argument",
          `An argument named "${a.name}" is not expected here.${
            nearest(a.name, [...VARIABLE_KEYS])
          }`,
          a.nameRange,
        ),
      );
    }
  }
  let type: Type = "any";
  const typeAttr = attr("type");
  if (typeAttr) {
    try {
      type = typeFromExpr(typeAttr.expr);
    } catch (err) {
      if (!(err instanceof DiagnosticError)) throw err;
      problems.push(...err.diagnostics);
    }
  }
  const literal = <T>(k: string, kind: "string" | "boolean"): T | undefined => {
    const a = attr(k);
    if (!a) return undefined;
    try {
      const v = evaluate(a.expr, scope);
      if (
        (kind === "string" && typeof v !== "string") ||
        (kind === "boolean" && typeof v !== "boolean")
      ) {
        throw new DiagnosticError([
          error(`Invalid ${k}`, `The ${k} of a variable must be a ${kind}.`, a.expr.range),
        ]);
      }
      return v as T;
    } catch (err) {
      if (!(err instanceof DiagnosticError)) throw err;
      problems.push(...err.diagnostics);
      return undefined;
    }
  };
  const description = literal<string>("description", "string");
  const sensitive = literal<boolean>("sensitive", "boolean") ?? false;
  let def: Value | undefined;
  const defAttr = attr("default");
  if (defAttr) {
    try {
      def = converted(
        evaluate(defAttr.expr, scope),
        type,
        name,
        defAttr.expr.range,
        "Invalid default value for variable",
      );
    } catch (err) {
      if (!(err instanceof DiagnosticError)) throw err;
      problems.push(...err.diagnostics);
    }
  }
  const validations = block.body.blocks.filter((b) => b.type === "validation").map((v) => {
    const condition = v.body.attributes.find((a) => a.name === "condition");
    const message = v.body.attributes.find((a) => a.name === "error_message");
    if (!condition || !message) {
      problems.push(
        error(
          "Missing required argument",
          `A validation block needs "condition" and "error_message".`,
          v.range,
        ),
      );
    }
    return { condition: condition?.expr, message: message?.expr, range: v.range };
  }).filter((v): v is { condition: Expr; message: Expr; range: Range } =>
    !!v.condition && !!v.message
  );
  if (problems.length > 0) throw new DiagnosticError(problems);
  return { name, type, default: def, description, sensitive, validations, range: block.range };
}

function converted(value: Value, type: Type, name: string, range: Range, summary: string): Value {
  try {
    return convert(value, type);
  } catch (err) {
    if (!(err instanceof ValueError)) throw err;
    throw new DiagnosticError([
      error(
        summary,
        `The value given for variable "${name}" is not compatible with its type constraint ${
          typeString(type)
        }: ${err.message}.`,
        range,
      ),
    ]);
  }
}

/** The result of resolving variables. */
export interface ResolvedVariables {
  values: ObjectValue;
  /** Values of sensitive variables: masked wherever kiln writes. */
  sensitive: Value[];
  warnings: Diagnostic[];
}

/**
 * Final values: default, then each input in order (later wins). Every
 * problem (undeclared, wrong type, unset, failed validation) is reported at once.
 */
export async function resolveVariables(
  decls: Map<string, VariableDecl>,
  inputs: VariableInput[],
  scope: Scope,
  allowUnset = false,
): Promise<ResolvedVariables> {
  const values: ObjectValue = {};
  const problems: Diagnostic[] = [];
  const warnings: Diagnostic[] = [];
  for (const d of decls.values()) if (d.default !== undefined) values[d.name] = d.default;
  for (const input of inputs) {
    const decl = decls.get(input.name);
    const range = "range" in input.origin ? input.origin.range : undefined;
    const label = "label" in input.origin
      ? input.origin.label
      : `${range!.file}:${range!.start.line}`;
    if (!decl) {
      if (input.strictness === "ignore") continue;
      const d = {
        ...error(
          input.strictness === "error" ? "Undefined -var variable" : "Undefined variable",
          `A "${input.name}" variable was passed in (${label}) but was not found in known variables. ` +
            `To declare variable "${input.name}", place this block in one of your .pkr.hcl files:\n\n` +
            `variable "${input.name}" {\n  type = string\n}${
              nearest(input.name, [...decls.keys()])
            }`,
          range,
        ),
        severity: input.strictness === "error" ? "error" as const : "warning" as const,
      };
      (input.strictness === "error" ? problems : warnings).push(d);
      continue;
    }
    try {
      let v: Value;
      if ("value" in input.value) v = input.value.value;
      else if (decl.type === "string" || decl.type === "any") v = input.value.text;
      else if (decl.type === "number" || decl.type === "bool") v = input.value.text;
      else v = await parseValueText(input.value.text, label, scope);
      values[input.name] = converted(
        v,
        decl.type,
        input.name,
        range ?? decl.range,
        "Invalid value for variable",
      );
    } catch (err) {
      if (!(err instanceof DiagnosticError)) throw err;
      problems.push(...err.diagnostics);
    }
  }
  for (const d of decls.values()) {
    if (!Object.hasOwn(values, d.name) && !allowUnset) {
      problems.push(error(
        "Unset variable",
        `A used variable must be set or have a default value: "${d.name}" has neither (set it with -var, -var-file, a *.auto.pkrvars.hcl file or PKR_VAR_${d.name}).`,
        d.range,
      ));
    }
  }
  if (problems.length > 0) throw new DiagnosticError(problems);
  for (const d of decls.values()) {
    if (!Object.hasOwn(values, d.name)) continue;
    for (const v of d.validations) {
      const inner: Scope = {
        ...scope,
        lookup: (n) => n === "var" ? { [d.name]: values[d.name] } : undefined,
      };
      try {
        const ok = evaluate(v.condition, inner);
        if (ok !== true && ok !== "true") {
          const message = evaluate(v.message, inner);
          problems.push(
            error(
              "Invalid value for variable",
              `${
                String(message)
              }\n\nThis was checked by the validation rule at ${v.range.file}:${v.range.start.line}.`,
              v.condition.range,
            ),
          );
        }
      } catch (err) {
        if (!(err instanceof DiagnosticError)) throw err;
        problems.push(...err.diagnostics);
      }
    }
  }
  if (problems.length > 0) throw new DiagnosticError(problems);
  const sensitive = [...decls.values()].filter((d) => d.sensitive).map((d) => values[d.name]);
  return { values, sensitive, warnings };
}

/** `-var 'l=["a","b"]'`: text for a collection-typed variable is an HCL expression. */
async function parseValueText(text: string, label: string, scope: Scope): Promise<Value> {
  const file = await parseHcl(label, `value = ${text}\n`);
  const attr = file.body.attributes[0];
  if (!attr || file.body.attributes.length !== 1 || file.body.blocks.length > 0) {
    throw new DiagnosticError([
      error(
        "Invalid value for variable",
        `${label}: ${JSON.stringify(text)} is not a single HCL expression.`,
      ),
    ]);
  }
  return evaluate(attr.expr, { ...scope, lookup: () => undefined });
}

/** Reads a var file's attributes (`name = value`) as inputs. */
export function varFileInputs(
  file: HclFile,
  scope: Scope,
  strictness: VariableInput["strictness"],
): VariableInput[] {
  const problems: Diagnostic[] = [];
  for (const b of file.body.blocks) {
    problems.push(
      error(
        "Unexpected block",
        `A variables file holds only "name = value" assignments; blocks are not allowed here.`,
        b.typeRange,
      ),
    );
  }
  const out: VariableInput[] = [];
  for (const a of file.body.attributes) {
    try {
      const value = evaluate(a.expr, {
        ...scope,
        lookup: () => undefined,
        explainUnknown: () =>
          "Variables may not be used here: a variables file holds constant values.",
        noFunctions: "Functions may not be called here: a variables file holds constant values.",
      });
      out.push({ name: a.name, value: { value }, origin: { range: a.nameRange }, strictness });
    } catch (err) {
      if (!(err instanceof DiagnosticError)) throw err;
      problems.push(...err.diagnostics);
    }
  }
  if (problems.length > 0) throw new DiagnosticError(problems);
  return out;
}

/**
 * A JSON variables file (`x.pkrvars.json`): an object of values. As in
 * Packer, its strings are literal (a variables file is evaluated without
 * variables or functions, and HCL's JSON syntax then reads no template).
 */
export function jsonVarFileInputs(
  name: string,
  text: string,
  strictness: VariableInput["strictness"],
): VariableInput[] {
  const doc = parseJsonTree(name, text);
  if (doc.root.kind !== "object") {
    throw new DiagnosticError([
      error(
        "Invalid variables file",
        `A JSON variables file is an object of name: value.`,
        doc.range(doc.root.start, doc.root.end),
      ),
    ]);
  }
  const problems: Diagnostic[] = [];
  const seen = new Map<string, Range>();
  const out: VariableInput[] = [];
  for (const m of doc.root.members) {
    if (m.key === "//") continue; // a comment, per HCL's JSON syntax
    const range = doc.range(m.keySpan.start, m.keySpan.end);
    const before = seen.get(m.key);
    if (before) {
      problems.push(
        error(
          "Duplicate argument",
          `The variable "${m.key}" was already set at line ${before.start.line}; each may be set once per file.`,
          range,
        ),
      );
      continue;
    }
    seen.set(m.key, range);
    out.push({ name: m.key, value: { value: jsonValue(m.value) }, origin: { range }, strictness });
  }
  if (problems.length > 0) throw new DiagnosticError(problems);
  return out;
}
