/**
 * Resolves user variables: template defaults, then `-var` and `-var-file`
 * in command-line order (a later flag overrides an earlier one of either
 * kind, as the documents say), then every value is rendered with `env`
 * allowed and `user` references resolved in dependency order, as Packer does.
 */
import { type Template, TemplateError, type TemplateInputs, type TemplateIssue } from "./types.ts";
import { EngineError, RenderBudget, RenderLimitError, renderString } from "./engine.ts";
import { VARIABLE_NOT_SET } from "./funcs.ts";
import { childPath, excerpt, setOwn } from "./source.ts";
import {
  decodeSourceBytes,
  formatOf,
  parseSourceText,
  readSourceFile,
  throwProblems,
} from "./parse.ts";

/** Resolved variables and which values are secrets. */
export interface ResolvedVariables {
  values: Record<string, string>;
  /** Values of sensitive variables (non-empty), to be masked in every output. */
  secrets: string[];
}

/** Where a variable's value came from, for error messages. */
interface Origin {
  file: string;
  path: string;
}

/** Reads one JSON var-file: an object of string values. */
async function readVarFile(path: string): Promise<Record<string, string>> {
  const bytes = await readSourceFile(path, "var-file");
  const format = formatOf(path);
  const text = decodeSourceBytes(bytes, path, "var-file", format);
  const doc = await parseSourceText(text, path, format);
  // Packer reads a var-file with plain encoding/json: a duplicate key is no error, the last wins.
  throwProblems(doc.problems.filter((p) => p.kind !== "duplicate-key"), path);
  const value = doc.value;
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new TemplateError([{
      file: path,
      path: "",
      message: "a var-file must be an object of variable name → string value",
    }]);
  }
  const issues: TemplateIssue[] = [];
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(value)) {
    // Go decodes a JSON null into a string as "" (Packer accepts it).
    if (v === null) setOwn(out, k, "");
    else if (typeof v !== "string") {
      const pos = doc.positions.get(childPath("", k));
      issues.push({
        file: path,
        path: childPath("", k),
        message: "expected a string value",
        line: pos?.line,
        column: pos?.column,
      });
    } else setOwn(out, k, v);
  }
  if (issues.length > 0) throw new TemplateError(issues);
  return out;
}

/**
 * Resolves the template's variables with the command-line inputs. Throws
 * TemplateError. `budget` bounds what rendering the values may produce
 * (shared with the rest of the template's preparation).
 */
export async function resolveVariables(
  template: Template,
  inputs: TemplateInputs = {},
  displayFile = template.file,
  budget = new RenderBudget(),
): Promise<ResolvedVariables> {
  const issues: TemplateIssue[] = [];
  const raw: Record<string, string> = {};
  const origin: Record<string, Origin> = {};
  const provided = new Set<string>();
  for (const [name, def] of Object.entries(template.variables)) {
    if (def.default !== null) {
      setOwn(raw, name, def.default);
      setOwn(origin, name, { file: displayFile, path: childPath("variables", name) });
    }
  }
  for (const input of inputs.vars ?? []) {
    if (input.kind === "var") {
      setOwn(raw, input.name, input.value);
      setOwn(origin, input.name, { file: "<flags>", path: `-var ${input.name}` });
      provided.add(input.name);
      continue;
    }
    try {
      for (const [k, v] of Object.entries(await readVarFile(input.path))) {
        setOwn(raw, k, v);
        setOwn(origin, k, { file: input.path, path: k });
        provided.add(k);
      }
    } catch (err) {
      if (err instanceof TemplateError) issues.push(...err.issues);
      else throw err;
    }
  }
  if (issues.length > 0) throw new TemplateError(issues);
  for (const [name, def] of Object.entries(template.variables)) {
    if (def.default === null && !provided.has(name)) {
      issues.push({
        file: displayFile,
        path: childPath("variables", name),
        message: `required variable not set: ${name} (set it with -var ${name}=... or -var-file)`,
      });
    }
  }
  if (issues.length > 0) throw new TemplateError(issues);

  // Render until nothing changes: a value may use another one that is not rendered yet.
  const values: Record<string, string> = {};
  let pending = Object.keys(raw).sort();
  const lastError: Record<string, string> = {};
  const failed = new Set<string>();
  while (pending.length > 0) {
    const next: string[] = [];
    for (const name of pending) {
      try {
        setOwn(
          values,
          name,
          renderString(raw[name], {
            variables: values,
            templateDir: template.dir,
            inVariables: true,
            budget,
          }),
        );
      } catch (err) {
        if (!(err instanceof EngineError)) throw err;
        if (err instanceof RenderLimitError && err.again) {
          failed.add(name);
        } else if (err.message.includes(VARIABLE_NOT_SET)) {
          next.push(name);
          lastError[name] = err.message;
        } else {
          failed.add(name);
          issues.push({
            ...origin[name],
            message: `error interpolating the value of "${name}": ${err.message}`,
          });
        }
      }
    }
    if (next.length === pending.length) {
      for (const name of next) {
        // A variable that only waits for one that failed above is not a cycle: say so briefly.
        const waitsFor = lastError[name].split(`${VARIABLE_NOT_SET} `)[1];
        if (waitsFor !== undefined && failed.has(waitsFor)) {
          issues.push({
            ...origin[name],
            message: `the value of "${name}" uses "${waitsFor}", which could not be rendered`,
          });
          continue;
        }
        issues.push({
          ...origin[name],
          message: `failed to interpolate ${
            template.variables[name]?.sensitive
              ? "<sensitive>"
              : JSON.stringify(excerpt(raw[name], 200))
          }: ${
            lastError[name]
          }; a variable used in another variable must be defined, and references must not form a cycle`,
        });
      }
      break;
    }
    pending = next;
  }
  if (issues.length > 0) throw new TemplateError(issues);
  const secrets = Object.entries(template.variables)
    .filter(([name, def]) => def.sensitive && values[name])
    .map(([name]) => values[name]);
  return { values, secrets };
}
