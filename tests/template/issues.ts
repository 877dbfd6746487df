/** Preparing a template the way `kiln validate` does and collecting what it refuses. */
import { prepareTemplate } from "../../template/prepare.ts";
import { TemplateError, type TemplateInputs, type TemplateIssue } from "../../template/types.ts";
import { writeFile } from "./helpers.ts";
import { kilnRegistry } from "../../registry.ts";

/** Writes `content` to `dir/name`, prepares it and returns its issues ([] when accepted). */
export async function prepareIssues(
  dir: string,
  name: string,
  content: unknown,
  inputs: TemplateInputs = {},
): Promise<{ file: string; issues: TemplateIssue[] }> {
  const file = await writeFile(dir, name, content);
  try {
    await prepareTemplate(file, inputs, { registry: kilnRegistry });
    return { file, issues: [] };
  } catch (err) {
    if (err instanceof TemplateError) return { file, issues: err.issues };
    throw err;
  }
}

/** The one issue at `path`, failing with everything found when there is none. */
export function issueAt(issues: TemplateIssue[], path: string): TemplateIssue {
  const found = issues.find((i) => i.path === path);
  if (!found) {
    throw new Error(
      `no issue at ${path}; found:\n${issues.map((i) => `${i.path}: ${i.message}`).join("\n")}`,
    );
  }
  return found;
}
