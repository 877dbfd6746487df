/**
 * Hostile HCL2 input gets a located diagnostic, never an internal error:
 * nesting deep enough to exhaust a recursive parser or evaluator, and a
 * template file that renders itself.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { prepareTemplate } from "../../../template/prepare.ts";
import { formatIssue, TemplateError } from "../../../template/types.ts";
import { kilnRegistry } from "../../../registry.ts";
import { withTempDir } from "../../support/temp_dir.ts";

async function problems(files: Record<string, string>): Promise<string> {
  return await withTempDir(async (dir) => {
    for (const [name, text] of Object.entries(files)) {
      await Deno.writeTextFile(join(dir, name), text);
    }
    try {
      await prepareTemplate(dir, {}, { registry: kilnRegistry });
    } catch (err) {
      if (err instanceof TemplateError) return err.issues.map(formatIssue).join("\n");
      throw err;
    }
    return assert.fail("accepted");
  });
}

const N = 20_000;

Deno.test("expressions nested 20,000 deep: a located 'Too deeply nested'", async () => {
  for (
    const expr of [
      "(".repeat(N) + "1" + ")".repeat(N),
      "[".repeat(N) + "1" + "]".repeat(N),
      '"' + '${"'.repeat(N) + "a" + '"}'.repeat(N) + '"',
      "{a = ".repeat(N) + "1" + "}".repeat(N),
    ]
  ) {
    const text = await problems({ "a.pkr.hcl": `locals {\n  x = ${expr}\n}\n` });
    assert.match(text, /a\.pkr\.hcl:2:\d+: Too deeply nested: Expressions nest at most 200/);
  }
});

Deno.test("blocks nested 20,000 deep: a located 'Too deeply nested'", async () => {
  const text = await problems({
    "a.pkr.hcl": `source "null" "a" {\n${"x {\n".repeat(N)}${"}\n".repeat(N)}}\n`,
  });
  assert.match(text, /a\.pkr\.hcl:\d+:1: Too deeply nested: Blocks nest at most 200/);
});

Deno.test("a template file that renders itself is refused, as in HCL", async () => {
  const text = await problems({
    "self.tpl": '${templatefile("self.tpl", {})}',
    "a.pkr.hcl": `locals {\n  x = templatefile("\${path.root}/self.tpl", {})\n}\n`,
  });
  assert.match(text, /a\.pkr\.hcl:2:7: .*cannot recursively call templatefile/);
});
