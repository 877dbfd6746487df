/**
 * `push` and `comments`, the root keys Packer 1.6.6 still decodes: templates
 * with them validate (five of the real-world templates carry a `push`), and
 * the shapes Packer's decoder refuses are refused with their JSON path.
 */
import { assertEquals } from "./assert.ts";
import { parseTemplate } from "../../template/parse.ts";
import { TemplateError } from "../../template/types.ts";
import { withTempDir, writeFile } from "./helpers.ts";

const builders = [{ type: "null", communicator: "none" }];

async function problems(dir: string, extra: Record<string, unknown>): Promise<string[]> {
  const file = await writeFile(dir, "t.json", { ...extra, builders });
  try {
    await parseTemplate(file);
    return [];
  } catch (err) {
    if (!(err instanceof TemplateError)) throw err;
    return err.issues.map((i) => `${i.path}: ${i.message}`);
  }
}

Deno.test("push and comments are accepted in the shapes Packer accepts", async () => {
  await withTempDir(async (dir) => {
    for (
      const extra of [
        { push: { name: "travis-ci/worker", vcs: true } },
        { push: null },
        { comments: [{ why: "because" }, null, { n: null }] },
        { comments: [] },
      ]
    ) {
      assertEquals(await problems(dir, extra), [], JSON.stringify(extra));
    }
  });
});

Deno.test("push and comments in other shapes are refused with their path", async () => {
  await withTempDir(async (dir) => {
    assertEquals(await problems(dir, { push: "worker", comments: { a: "b" } }), [
      "push: expected an object (Packer's former push settings), got a string",
      "comments: expected an array of objects of strings, got an object",
    ]);
    assertEquals(await problems(dir, { comments: ["x", { a: 1, b: "ok", c: true }] }), [
      "comments[0]: expected an object of strings, got a string",
      "comments[1].a: expected a string, got a number",
      "comments[1].c: expected a string, got true",
    ]);
  });
});
