/**
 * The qemu builder's options against Packer 1.6.6's recorded answers
 * (tests/fixtures/qemu/record.sh), Packer not needed at test time:
 *
 * - cases/: one option or check per template. kiln's verdict is Packer's, and
 *   every error Packer's qemu builder gives appears in kiln's messages; where
 *   the current plugin documents differ from 1.6.6, NAME.kiln.json gives
 *   kiln's answer (the documents win).
 * - realworld/: 29 public templates that use the qemu builder, validated
 *   from a copy of their repository layout. kiln's qemu builder agrees with
 *   Packer's verdict, and `kiln inspect` prints what `packer inspect` does.
 */
import { assert, assertEquals } from "../template/assert.ts";
import { type ValidateAnswer, validateInDirs } from "./validate_in_dirs.ts";
import { parseTemplate } from "../../template/parse.ts";
import { printInspect } from "../../cli/inspect.ts";
import { commandOutput } from "../../cli/machine_readable.ts";
import { dirname, join } from "node:path";

const root = new URL("../fixtures/qemu/", import.meta.url).pathname;
const casesDir = join(root, "cases");
const realworldDir = join(root, "realworld");

interface KilnAnswer {
  verdict?: "accept" | "reject";
  /** realworld: the verdict on the qemu builder's own options. */
  builder?: "accept" | "reject";
  note: string;
  messages?: string[];
}

/**
 * Packer errors kiln words differently on purpose: its own decoder (types,
 * unknown keys), the communicator layer and the file provisioner say the
 * same thing in kiln's words. The verdict still has to agree.
 */
const OWN_WORDS = [
  /^unknown configuration key/,
  /^error decoding/,
  /expected type '/,
  /^An ssh_username must be specified/,
  /^Bad source '/,
];

const squash = (text: string) => text.replace(/\s+/g, " ").trim();

/** kiln names a deprecated key as Packer does but points at `kiln fix`: compare up to there. */
const sameWords = (message: string) =>
  message.replace(/^(Deprecated configuration key: '[^']+'\.) Please call `packer fix`.*$/, "$1");

/** Packer's error bullets (its output wraps at 80 columns: whitespace is normalised). */
function packerErrors(recorded: string): string[] {
  const body = recorded.split("\n").slice(1).join("\n");
  const bullets = body.split(/^\s*\* /m).slice(1);
  return bullets.map((b) => squash(b)).filter((b) => b !== "");
}

function readJson<T>(path: string): T | undefined {
  try {
    return JSON.parse(Deno.readTextFileSync(path));
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) return undefined;
    throw err;
  }
}

const issueText = (a: ValidateAnswer) => a.issues.map((i) => `${i.path}: ${i.message}`).join("\n");

// --- cases -------------------------------------------------------------------------------

const caseNames = [...Deno.readDirSync(casesDir)]
  .filter((e) => e.isFile && e.name.endsWith(".json") && !e.name.endsWith(".kiln.json"))
  .map((e) => e.name.slice(0, -".json".length))
  .sort();

const caseAnswers = await validateInDirs(
  caseNames.map((name) => ({ dir: casesDir, file: `${name}.json`, args: [] })),
);

Deno.test("the qemu case corpus covers the builder's options and checks", () => {
  assert(caseNames.length >= 120, `only ${caseNames.length} cases`);
});

caseNames.forEach((name, i) => {
  Deno.test(`qemu case ${name}: kiln answers as Packer (or the documents)`, () => {
    const recorded = Deno.readTextFileSync(join(casesDir, `${name}.packer.txt`))
      .replaceAll("{{CASES}}", casesDir);
    const kiln = readJson<KilnAnswer>(join(casesDir, `${name}.kiln.json`));
    const answer = caseAnswers[i];
    const expected = kiln?.verdict ?? (recorded.startsWith("exit=0") ? "accept" : "reject");
    assertEquals(
      answer.verdict,
      expected,
      `kiln ${answer.verdict}s ${name}:\n${issueText(answer)}`,
    );
    const said = answer.issues.map((issue) => squash(issue.message));
    const wanted = kiln ? kiln.messages ?? [] : packerErrors(recorded);
    for (const message of wanted) {
      if (!kiln && OWN_WORDS.some((re) => re.test(message))) continue;
      assert(
        said.some((s) => s.includes(sameWords(squash(message)))),
        `${name}: Packer says "${message}"; kiln says:\n${issueText(answer)}`,
      );
    }
    for (const issue of answer.issues) {
      assert(issue.file === `${name}.json` && issue.path.startsWith("builders[0]"), issue.path);
      assert(issue.line !== undefined, `${issue.path} has no line`);
    }
  });
});

// --- real-world templates --------------------------------------------------------------------

interface RealTemplate {
  file: string;
  name: string;
  rel: string;
  only: string;
  args: string[];
}

const templates: RealTemplate[] = Deno.readTextFileSync(join(realworldDir, "index.tsv"))
  .split("\n")
  .filter((line) => line !== "" && !line.startsWith("#"))
  .map((line) => {
    const [file, rel, only, extra] = line.split("\t");
    return {
      file,
      name: file.slice(0, -".json".length),
      rel,
      only,
      args: (extra ?? "").split(" ").filter((a) => a !== ""),
    };
  });

/** Lays a template out as in its repository: its helper files, itself at its path. */
async function layOut(t: RealTemplate, work: string): Promise<string> {
  const helpers = join(realworldDir, `${t.name}.d`);
  const copy = async (from: string, to: string) => {
    for await (const entry of Deno.readDir(from)) {
      const [src, dst] = [join(from, entry.name), join(to, entry.name)];
      if (entry.isDirectory) {
        await Deno.mkdir(dst, { recursive: true });
        await copy(src, dst);
      } else await Deno.copyFile(src, dst);
    }
  };
  await Deno.mkdir(work, { recursive: true });
  if (await Deno.stat(helpers).then(() => true, () => false)) await copy(helpers, work);
  const target = join(work, t.rel);
  await Deno.mkdir(dirname(target), { recursive: true });
  await Deno.copyFile(join(realworldDir, t.file), target);
  return target;
}

const works = await Deno.makeTempDir({ prefix: "kiln-qemu-realworld-" });
const targets: string[] = [];
for (const [i, t] of templates.entries()) targets.push(await layOut(t, join(works, String(i))));
const realAnswers = await validateInDirs(
  templates.map((t, i) => ({
    dir: dirname(targets[i]),
    file: targets[i],
    args: [`-only=${t.only}`, ...t.args],
  })),
);
await Deno.remove(works, { recursive: true });

Deno.test("the real-world corpus holds the 29 public templates that use the qemu builder", () => {
  assertEquals(templates.length, 29);
});

templates.forEach((t, i) => {
  Deno.test(`qemu real-world ${t.name}: the qemu builder answers as Packer`, () => {
    const recorded = Deno.readTextFileSync(join(realworldDir, `${t.name}.packer.txt`));
    const kiln = readJson<KilnAnswer>(join(realworldDir, `${t.name}.kiln.json`));
    const answer = realAnswers[i];
    const builderIndexes = new Set(
      JSON.parse(Deno.readTextFileSync(join(realworldDir, t.file))).builders
        .flatMap((b: { type: string }, j: number) => b.type === "qemu" ? [j] : []),
    );
    const builderIssues = answer.issues.filter((issue) => {
      const m = /^builders\[(\d+)\]/.exec(issue.path);
      return m !== null && builderIndexes.has(Number(m[1]));
    });
    const expected = kiln?.builder ?? (recorded.startsWith("exit=0") ? "accept" : "reject");
    assertEquals(
      builderIssues.length === 0 ? "accept" : "reject",
      expected,
      `${t.name}:\n${issueText(answer)}`,
    );
    const said = answer.issues.map((issue) => squash(issue.message));
    for (const message of packerErrors(recorded)) {
      if (OWN_WORDS.some((re) => re.test(message))) continue;
      assert(
        said.some((s) => s.includes(sameWords(message))),
        `${t.name}: Packer says "${message}"; kiln says:\n${issueText(answer)}`,
      );
    }
  });

  Deno.test(`qemu real-world ${t.name}: kiln inspect prints what packer inspect does`, async () => {
    const expected = Deno.readTextFileSync(join(realworldDir, `${t.name}.inspect.txt`));
    const out = commandOutput(false, () => {});
    printInspect(await parseTemplate(join(realworldDir, t.file)), out);
    // Packer 1.6.6 has no post-processor section; everything else must match line for line.
    const text = out.lines.join("\n").replace(/Post-processors:\n\n(?: {2}.*\n)+\n/, "");
    assertEquals(text.trimEnd(), expected.trimEnd());
  });
});
