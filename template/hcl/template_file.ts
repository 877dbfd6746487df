/**
 * `templatefile(path, vars)`: the file's text is an HCL string template,
 * rendered with `vars` as its only names (and the function library).
 */
import { parseHclSync } from "./syntax.ts";
import { DiagnosticError } from "./diagnostic.ts";
import { evaluate } from "./eval.ts";
import { hclFunctions } from "./functions/mod.ts";
import { type ObjectValue, type Value, ValueError } from "./value.ts";

const MARK = "KILN_TEMPLATEFILE_END";

/** A template may not render templates (it could render itself forever), as in HCL. */
const INNER_FUNCTIONS = {
  ...hclFunctions(),
  templatefile: {
    params: ["path", "vars"],
    call: (): Value => {
      throw new ValueError("cannot recursively call templatefile from inside templatefile call");
    },
  },
};

/** Renders a template file's text; errors become the function's ValueError. */
export function renderTemplateFile(text: string, vars: ObjectValue, file: string): Value {
  if (text.includes(`\n${MARK}`)) {
    throw new ValueError(`${file}: the template contains a reserved marker`);
  }
  let parsed;
  try {
    parsed = parseHclSync(file, `v = <<${MARK}\n${text}\n${MARK}\n`);
  } catch (err) {
    if (err instanceof DiagnosticError) throw new ValueError(`${file}: ${err.message}`);
    throw err;
  }
  const expr = parsed.body.attributes[0].expr;
  try {
    const out = evaluate(expr, {
      lookup: (n) => Object.hasOwn(vars, n) ? vars[n] : undefined,
      functions: INNER_FUNCTIONS,
      context: { baseDir: file.replace(/\/[^/]*$/, ""), now: new Date() },
    });
    // The heredoc adds the newline before the closing marker.
    return typeof out === "string" ? out.replace(/\n$/, "") : out;
  } catch (err) {
    if (err instanceof DiagnosticError) {
      const d = err.diagnostics[0];
      throw new ValueError(
        `${file}:${d.range ? d.range.start.line - 1 : "?"}: ${d.summary}: ${d.detail}`,
      );
    }
    throw err;
  }
}
