/**
 * What `kiln console` evaluates lines against: an HCL2 configuration (HCL
 * expressions) or a JSON template (Go-template text such as
 * `{{user "x"}}`), as Packer's console does. With no configuration it starts
 * empty, in JSON mode unless HCL2 is asked for, as in Packer.
 */
import { EngineError, renderString } from "./engine.ts";
import { isHclConfig } from "./hcl/files.ts";
import { parseTemplate } from "./parse.ts";
import { loadHclConfig } from "./prepare.ts";
import type { ComponentRegistry } from "./registry.ts";
import { type Template, TemplateError, type TemplateInputs } from "./types.ts";
import { resolveVariables } from "./variables.ts";

/** The result of one console line. */
export interface ConsoleOutcome {
  /** The value as Packer prints it ("" for nothing). */
  output: string;
  /** Rendered error text when the line failed. */
  error?: string;
  /** The line asked to leave the console. */
  exit?: boolean;
}

/** Evaluates console lines in one mode. */
export interface ConsoleEvaluator {
  mode: "hcl2" | "json";
  evaluate(line: string): Promise<ConsoleOutcome>;
}

/** Which syntax the console speaks; undefined: from the configuration (JSON without one). */
export type ConsoleConfigType = "hcl2" | "json" | undefined;

/**
 * Loads `config` (a file or directory; undefined for none) with the inputs
 * and returns its evaluator. Throws TemplateError when the configuration is
 * invalid, as `validate` would report it. The registry gives the data
 * sources and the components' schemas an HCL2 configuration needs.
 */
export async function openConsole(
  config: string | undefined,
  inputs: TemplateInputs,
  registry: ComponentRegistry,
  configType: ConsoleConfigType = undefined,
): Promise<ConsoleEvaluator> {
  const hcl = configType === "hcl2" ||
    (configType === undefined && config !== undefined && await isHclConfig(config));
  if (hcl) {
    const { hclConsole, emptyHclConsoleConfig } = await import("./hcl/console.ts");
    if (config === undefined) return hclConsole(emptyHclConsoleConfig());
    const loaded = await loadHclConfig(config, inputs, registry);
    return hclConsole({
      scope: loaded.scope,
      outline: loaded.outline,
      secrets: loaded.template.resolved?.secrets ?? [],
    });
  }
  const template = config === undefined ? emptyTemplate() : await parseTemplate(config);
  const resolved = await resolveVariables(template, inputs, config ?? "<flags>");
  return jsonConsole(template, resolved.values, resolved.secrets);
}

function emptyTemplate(): Template {
  return {
    file: "",
    dir: Deno.cwd(),
    format: "json",
    variables: {},
    builders: [],
    provisioners: [],
    postProcessors: [],
    digest: "",
  };
}

const JSON_HELP = `kiln console, JSON mode.
Type template text and press <enter> to see it rendered, e.g.
{{user \`name\`}} or {{timestamp}}. The template's variables, with -var and
-var-file applied, are available through "user".

"variables" lists the variables with their values.
"exit" (or Control-D) leaves the console.

For HCL2 expressions without a configuration, start with -config-type=hcl2.`;

/** An evaluator of Go-template text with a JSON template's resolved variables. */
export function jsonConsole(
  template: Template,
  variables: Record<string, string>,
  secrets: readonly string[],
): ConsoleEvaluator {
  const hide = (text: string) => {
    for (const s of [...secrets].filter((x) => x !== "").sort((a, b) => b.length - a.length)) {
      text = text.replaceAll(s, "<sensitive>");
    }
    return text;
  };
  return {
    mode: "json",
    evaluate: (raw) => {
      const line = raw.trim();
      if (line === "") return Promise.resolve({ output: "" });
      if (line === "exit") return Promise.resolve({ output: "", exit: true });
      if (line === "help") return Promise.resolve({ output: JSON_HELP });
      if (line === "variables") {
        const names = Object.keys(variables).sort();
        return Promise.resolve({
          output: hide(["", ...names.map((n) => `${n}: ${variables[n]},`)].join("\n")),
        });
      }
      try {
        return Promise.resolve({
          output: hide(renderString(line, { variables, templateDir: template.dir })),
        });
      } catch (err) {
        if (!(err instanceof EngineError)) throw err;
        return Promise.resolve({
          output: "",
          error: hide(`Error: Interpolation error\n\n${err.message}\n`),
        });
      }
    },
  };
}

export { TemplateError };
