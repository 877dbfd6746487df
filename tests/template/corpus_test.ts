/**
 * Differential corpus: every template in tests/fixtures/templates is checked
 * against Packer 1.6.6's recorded answer (record.sh), or kiln's documented
 * answer where the documents and Packer disagree (NAME.kiln.json). Packer is
 * not needed at test time.
 */
import { assert, assertEquals } from "./assert.ts";
import { prepareTemplate } from "../../template/prepare.ts";
import { parseTemplate } from "../../template/parse.ts";
import { TemplateError } from "../../template/types.ts";
import { parseCommandArgs, TEMPLATE_INPUT_FLAGS, templateInputsFrom } from "../../cli/args.ts";
import { commandOutput } from "../../cli/machine_readable.ts";
import { printInspect } from "../../cli/inspect.ts";
import { kilnRegistry } from "../../registry.ts";

const dir = new URL("../fixtures/templates/", import.meta.url).pathname.replace(/\/$/, "");

interface KilnAnswer {
  verdict: "accept" | "reject";
  note: string;
  content?: string;
}

async function readOptional(path: string): Promise<string | undefined> {
  try {
    return await Deno.readTextFile(path);
  } catch {
    return undefined;
  }
}

const names: { name: string; ext: string }[] = [];
for (const entry of Deno.readDirSync(dir)) {
  const m = /^(.*)\.(json|yaml)$/.exec(entry.name);
  if (entry.isFile && m && !entry.name.endsWith(".kiln.json")) {
    names.push({ name: m[1], ext: m[2] });
  }
}
names.sort((a, b) => a.name.localeCompare(b.name));

Deno.test("the corpus holds at least 30 templates with recorded answers", () => {
  assert(names.length >= 30, `only ${names.length} templates`);
});

for (const { name, ext } of names) {
  Deno.test(`corpus: ${name}.${ext} agrees with ${ext === "yaml" ? "its documented answer" : "Packer 1.6.6"}`, async () => {
    const file = `${dir}/${name}.${ext}`;
    const kilnText = await readOptional(`${dir}/${name}.kiln.json`);
    const kiln: KilnAnswer | undefined = kilnText ? JSON.parse(kilnText) : undefined;
    const recorded = await readOptional(`${dir}/${name}.packer.txt`);
    assert(kiln || recorded, `${name} has neither a recorded Packer answer nor a kiln answer`);
    const packerVerdict = recorded?.startsWith("exit=0") ? "accept" : "reject";
    const expected = kiln?.verdict ?? packerVerdict;

    const argText = await readOptional(`${dir}/${name}.args`);
    const args = (argText ?? "").split("\n").filter((l) => l !== "")
      .map((a) => a.replace("vars/", `${dir}/vars/`));
    const inputs = templateInputsFrom(parseCommandArgs(args, TEMPLATE_INPUT_FLAGS));
    Deno.env.set("KILN_FIXTURE_ENV", "from-env");

    let verdict: "accept" | "reject" = "accept";
    let content: unknown;
    let issues = "";
    try {
      const prepared = await prepareTemplate(file, inputs, { registry: kilnRegistry });
      content = prepared.builds[0]?.config.content;
    } catch (err) {
      if (!(err instanceof TemplateError)) throw err;
      verdict = "reject";
      issues = err.message;
      for (const issue of err.issues) {
        assert(issue.file !== "", "every issue names a file");
        assert(issue.message !== "", "every issue says what was expected");
      }
    }
    assertEquals(verdict, expected, `kiln ${verdict}s ${name}${issues ? `:\n${issues}` : ""}`);

    const recordedOut = kiln?.content ??
      (await readOptional(`${dir}/${name}.packer.out`))?.replaceAll("{{TEMPLATE_DIR}}", dir);
    if (recordedOut !== undefined) assertEquals(content, recordedOut);

    const inspect = await readOptional(`${dir}/${name}.inspect.txt`);
    if (inspect !== undefined) {
      const out = commandOutput(false, () => {});
      printInspect(await parseTemplate(file), out);
      // Packer 1.6.6 has no post-processor section; everything else must match line for line.
      const text = out.lines.join("\n").replace(/Post-processors:\n\n(?: {2}.*\n)+\n/, "");
      assertEquals(text.trimEnd(), inspect.trimEnd());
    }
  });
}
