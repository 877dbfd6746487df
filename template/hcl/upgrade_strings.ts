/**
 * Translates the Go-template calls inside a JSON template's strings into
 * HCL2 interpolations, as `packer hcl2_upgrade` does: `{{user `x`}}` →
 * `${var.x}`, `{{timestamp}}` → `${local.timestamp}`, ... Calls with no HCL2
 * counterpart stay Go-template text (components still render those, e.g.
 * `{{ .HTTPIP }}`), and the caller gets a note to put in a comment.
 */
import { type Command, type Operand, parseTemplateText, type Pipeline } from "../engine_parse.ts";
import { escapeText } from "./upgrade_write.ts";

/** Where a string sits: decides what `env`, `build_name` and friends may become. */
export interface StringScope {
  /** `variable`: a user variable's default; `source`: a builder; `build`: provisioners and post-processors. */
  where: "variable" | "local" | "source" | "build";
  /** Variables that became locals: `{{user `x`}}` reads `local.x`. */
  locals: ReadonlySet<string>;
  /** For `source`: the JSON build name and type, substituted literally. */
  buildName?: string;
  buildType?: string;
}

/** What translating strings needed, collected across a whole template. */
export interface TranslationUse {
  /** `{{timestamp}}` was used: the `timestamp` local must be declared. */
  timestamp: boolean;
  /** Notes about calls left as Go-template text, for a comment above the block. */
  notes: string[];
  /** A call that keeps a variable default from being a plain HCL2 variable (needs a local). */
  needsLocal: boolean;
}

/** A fresh, empty TranslationUse. */
export function newUse(): TranslationUse {
  return { timestamp: false, notes: [], needsLocal: false };
}

const IDENT = /^[A-Za-z_][A-Za-z0-9_-]*$/;

/** Go-template source of an operand, normalised (`.HTTPIP`, `user \`x\``). */
function operandText(op: Operand): string {
  switch (op.kind) {
    case "ident":
      return op.name;
    case "field":
      return "." + op.path.join(".");
    case "var":
      return "$" + op.name + op.path.map((p) => "." + p).join("");
    case "string":
      return op.value.includes("`") ? JSON.stringify(op.value) : "`" + op.value + "`";
    case "number":
      return op.text;
    case "bool":
      return String(op.value);
    case "nil":
      return "nil";
    case "pipe":
      return "(" + pipeText(op.pipe) + ")";
  }
}

function pipeText(pipe: Pipeline): string {
  const cmds = pipe.commands.map((c) => c.args.map(operandText).join(" ")).join(" | ");
  return pipe.decl ? `$${pipe.decl} := ${cmds}` : cmds;
}

type Part = { text: string } | { interp: string };

/** The HCL2 interpolation for one command, or undefined when it has none. */
function translateCommand(cmd: Command, scope: StringScope, use: TranslationUse): Part | undefined {
  const [head, ...args] = cmd.args;
  if (head.kind === "field" && args.length === 0) return { text: `{{ ${operandText(head)} }}` };
  if (head.kind !== "ident") return undefined;
  const strArgs = args.map((a) => a.kind === "string" ? a.value : undefined);
  if (strArgs.some((a) => a === undefined)) return undefined;
  const [a0] = strArgs as string[];
  const n = args.length;
  const inVariable = scope.where === "variable";
  switch (head.name) {
    case "user":
      if (n !== 1 || !IDENT.test(a0)) return undefined;
      if (inVariable) use.needsLocal = true;
      return { interp: `${scope.locals.has(a0) ? "local" : "var"}.${a0}` };
    case "env":
      // HCL2 reads the environment only in a variable's default.
      if (n !== 1 || !(inVariable || scope.where === "local")) return undefined;
      return { interp: `env(${JSON.stringify(a0)})` };
    case "timestamp":
      if (n !== 0) return undefined;
      use.timestamp = true;
      if (inVariable) use.needsLocal = true;
      return { interp: "local.timestamp" };
    case "uuid":
      if (n !== 0) return undefined;
      if (inVariable) use.needsLocal = true;
      return { interp: "uuidv4()" };
    case "template_dir":
    case "pwd":
    case "packer_version":
      if (n !== 0) return undefined;
      if (inVariable) use.needsLocal = true;
      return {
        interp:
          { template_dir: "abspath(path.root)", pwd: "path.cwd", packer_version: "packer.version" }[
            head.name
          ],
      };
    case "isotime":
    case "strftime":
      if (n > 1) return undefined;
      if (inVariable) use.needsLocal = true;
      return {
        interp: n === 0 ? "timestamp()" : `legacy_${head.name}(${JSON.stringify(a0)})`,
      };
    case "build_name":
    case "build_type": {
      if (n !== 0 || inVariable || scope.where === "local") return undefined;
      const field = head.name === "build_name" ? "name" : "type";
      if (scope.where === "build") return { interp: `source.${field}` };
      const literal = field === "name" ? scope.buildName : scope.buildType;
      return literal === undefined ? undefined : { text: literal };
    }
    case "build":
      if (n !== 1 || scope.where !== "build" || !IDENT.test(a0)) return undefined;
      return { interp: `build.${a0}` };
  }
  return undefined;
}

/**
 * Translates one JSON string into the body of an HCL2 quoted template
 * (without the quotes). Untranslatable calls stay as Go-template text and
 * add a note to `use`; a string that does not parse as a Go template is kept
 * verbatim.
 */
export function translateString(s: string, scope: StringScope, use: TranslationUse): string {
  if (!s.includes("{{")) return escapeText(s);
  let nodes;
  try {
    nodes = parseTemplateText(s);
  } catch (err) {
    use.notes.push(
      `could not parse the template in ${JSON.stringify(s)} (${
        err instanceof Error ? err.message : String(err)
      }): kept as written`,
    );
    return escapeText(s);
  }
  const parts: Part[] = [];
  for (const node of nodes) {
    if (node.kind === "text") {
      parts.push({ text: node.text });
      continue;
    }
    if (node.kind !== "action") {
      use.notes.push(
        `${node.kind} blocks have no HCL2 translation: ${JSON.stringify(s)} kept as written`,
      );
      return escapeText(s);
    }
    const pipe = node.pipe;
    const part = pipe.commands.length === 1 && !pipe.decl
      ? translateCommand(pipe.commands[0], scope, use)
      : undefined;
    if (part) {
      parts.push(part);
      continue;
    }
    // As written (escapes, char constants): the trim markers already trimmed the neighbours.
    const call = `{{ ${pipe.text} }}`;
    use.notes.push(`no automatic HCL2 translation for ${call}: kept as a Go template call`);
    parts.push({ text: call });
  }
  let out = "";
  parts.forEach((p, i) => {
    if ("interp" in p) {
      out += "${" + p.interp + "}";
      return;
    }
    let text = escapeText(p.text);
    // "$" right before an interpolation would read as the `$${` escape.
    const next = parts[i + 1];
    const dollars = text.match(/\$+$/)?.[0];
    if (next && "interp" in next && dollars) {
      text = text.slice(0, -dollars.length) + '${"' + dollars + '"}';
    }
    out += text;
  });
  return out;
}
