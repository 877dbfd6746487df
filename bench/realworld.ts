/**
 * The real-world coverage table: every public template of
 * ../shared/realworld/templates, validated the way its README says (its
 * `.d/` sidecar copied into a scratch directory, the template placed at its
 * repository path, run from there with the extra arguments of index.tsv),
 * through `kiln validate` and `packer validate` (Packer 1.6.6, when
 * installed), two templates at a time. For each: both verdicts, whether
 * they agree, whether kiln has every builder, provisioner and
 * post-processor it uses (kiln's own registries, so the table follows new
 * components), and whether kiln could run it (a builder kiln has, and only
 * provisioners and post-processors kiln has).
 *
 *   deno run -A bench/realworld.ts [--no-packer | --recorded] [--record] [--json]
 *
 * Packer validates slowly (a plugin process per component: about a minute
 * for the 110 here), so its answers are recorded in
 * tests/fixtures/realworld/packer_validate.json (`--record` rewrites it from
 * the installed Packer); `--recorded` uses them instead of running Packer,
 * as tests/bench/realworld_test.ts does.
 *
 * A kiln rejection whose only reasons are component types kiln lacks,
 * where Packer accepts, is expected and counted apart; so is a Packer
 * rejection that needs the network this machine lacks (downloading a
 * checksum file), or one of options newer than Packer 1.6.6 that the
 * documents (kiln's spec) have, where kiln accepts.
 */
import { basename, dirname, join } from "node:path";
import { parseArgs } from "node:util";
import { kilnRegistry } from "../registry.ts";
import type { ValidateAnswer, ValidateJob } from "./realworld_worker.ts";

/** The templates' directory (with index.tsv). */
export const REALWORLD_DIR = new URL("../../shared/realworld/templates/", import.meta.url)
  .pathname;
const WORKER = new URL("./realworld_worker.ts", import.meta.url).pathname;
/** Packer's recorded answers, by template name. */
export const PACKER_ANSWERS = new URL(
  "../tests/fixtures/realworld/packer_validate.json",
  import.meta.url,
).pathname;

/** Where Packer's answers come from: run it, the recorded ones, or none. */
export type PackerSource = "live" | "recorded" | "none";

/** accept or reject. */
export type Verdict = "accept" | "reject";

/** How kiln's verdict relates to Packer's. */
export type Agreement =
  | "same"
  | "kiln lacks a component"
  | "Packer needs the network"
  | "Packer predates an option"
  | "differs"
  | "no packer";

/** One template's row. */
export interface CoverageRow {
  name: string;
  kiln: Verdict;
  packer?: Verdict;
  agreement: Agreement;
  /** Component types the template uses that kiln does not have (`builder:docker`, ...). */
  missing: string[];
  /** Every builder, provisioner and post-processor is one kiln has. */
  allComponents: boolean;
  /** Has a builder kiln has, and only provisioners and post-processors kiln has. */
  runnable: boolean;
  /** The first problem each tool reports, for the differences. */
  kilnSays: string;
  packerSays: string;
  /** Packer's exit code and output (what `--record` keeps). */
  packerAnswer?: ValidateAnswer;
}

interface Entry {
  name: string;
  path: string;
  args: string[];
}

/** index.tsv: template, its path in its repository, the extra arguments. */
export function readIndex(dir = REALWORLD_DIR): Entry[] {
  return Deno.readTextFileSync(join(dir, "index.tsv")).split("\n").slice(1)
    .filter((l) => l.trim() !== "")
    .map((l) => {
      const [name, path, args = ""] = l.split("\t");
      return { name, path, args: args.split(/\s+/).filter((a) => a !== "") };
    });
}

/** The component types a template uses, by kind (read leniently: Packer's words decide validity). */
export function componentTypes(
  template: unknown,
): Record<"builder" | "provisioner" | "post-processor", string[]> {
  const t = (template ?? {}) as Record<string, unknown>;
  const typeOf = (v: unknown) =>
    v !== null && typeof v === "object" && typeof (v as { type?: unknown }).type === "string"
      ? (v as { type: string }).type
      : undefined;
  // A post-processor may be given by its type alone.
  const ppTypeOf = (v: unknown) => typeof v === "string" ? v : typeOf(v);
  const list = (v: unknown) => Array.isArray(v) ? v : [];
  const defined = (xs: (string | undefined)[]) =>
    [...new Set(xs.filter((x) => x !== undefined))] as string[];
  return {
    builder: defined(list(t.builders).map(typeOf)),
    provisioner: defined([
      ...list(t.provisioners).map(typeOf),
      ...(t["error-cleanup-provisioner"] ? [typeOf(t["error-cleanup-provisioner"])] : []),
    ]),
    "post-processor": defined(
      list(t["post-processors"]).flatMap((p) => Array.isArray(p) ? p : [p]).map(ppTypeOf),
    ),
  };
}

const UNKNOWN_TYPE = /: unknown (builder|provisioner|post-processor|data source) type "/;
const NO_NETWORK = /Error downloading checksum file|dial tcp|no such host/;
/**
 * Options of the current documents that Packer 1.6.6 predates (the documents
 * are kiln's spec where they disagree): 1.6.6 calls them unknown keys.
 */
const NEWER_OPTIONS = ["metadata_options", "deprecate_at", "skip_create_ami", "architecture"];
const PACKER_ERROR = /^\s*\* (.*)$/gm;

/** Whether every error Packer printed is an unknown key that is a newer documented option. */
function onlyNewerOptions(output: string): boolean {
  const errors = [...output.matchAll(PACKER_ERROR)].map((m) => m[1]);
  return errors.length > 0 && errors.every((e) => {
    const key = /^unknown configuration key: '"([^"]+)"'$/.exec(e)?.[1];
    return key !== undefined && NEWER_OPTIONS.includes(key);
  });
}

function issueLines(output: string): string[] {
  return output.split("\n").filter((l) => l.startsWith("  * "));
}

/** A `kiln validate` worker process. */
class KilnWorker {
  #child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", WORKER],
    stdin: "piped",
    stdout: "piped",
    stderr: "inherit",
    env: { NO_COLOR: "1" },
  }).spawn();
  #writer = this.#child.stdin.getWriter();
  #reader = this.#child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  #buffered = "";

  async validate(job: ValidateJob): Promise<ValidateAnswer> {
    await this.#writer.write(new TextEncoder().encode(JSON.stringify(job) + "\n"));
    for (;;) {
      const nl = this.#buffered.indexOf("\n");
      if (nl >= 0) {
        const line = this.#buffered.slice(0, nl);
        this.#buffered = this.#buffered.slice(nl + 1);
        return JSON.parse(line) as ValidateAnswer;
      }
      const { value, done } = await this.#reader.read();
      if (done) throw new Error("the kiln validate worker exited");
      this.#buffered += value;
    }
  }

  async close(): Promise<void> {
    await this.#writer.close();
    await this.#reader.cancel();
    await this.#child.status;
  }
}

async function packerValidate(dir: string, args: string[]): Promise<ValidateAnswer> {
  const out = await new Deno.Command("packer", {
    args: ["validate", ...args],
    cwd: dir,
    env: { CHECKPOINT_DISABLE: "1" },
    stdout: "piped",
    stderr: "piped",
    signal: AbortSignal.timeout(120_000),
  }).output();
  const dec = new TextDecoder();
  return { code: out.code, output: dec.decode(out.stdout) + dec.decode(out.stderr) };
}

/** Whether Packer 1.6.6 is installed. */
export async function havePacker(): Promise<boolean> {
  try {
    const out = await new Deno.Command("packer", { args: ["version"], stdout: "piped" }).output();
    return out.success && new TextDecoder().decode(out.stdout).includes("1.6.6");
  } catch {
    return false;
  }
}

/** Validates every template with kiln (and Packer when `packer`), `concurrency` at a time. */
export async function realworldCoverage(
  options: { packer: PackerSource; concurrency?: number; dir?: string },
): Promise<CoverageRow[]> {
  const dir = options.dir ?? REALWORLD_DIR;
  const recorded: Record<string, ValidateAnswer> = options.packer === "recorded"
    ? JSON.parse(await Deno.readTextFile(PACKER_ANSWERS))
    : {};
  const entries = readIndex(dir);
  const known = {
    builder: new Set(kilnRegistry.builders.types()),
    provisioner: new Set(kilnRegistry.provisioners.types()),
    "post-processor": new Set(kilnRegistry.postProcessors.types()),
  };
  const scratch = await Deno.makeTempDir({ prefix: "kiln-realworld-" });
  const workers = Array.from({ length: options.concurrency ?? 2 }, () => new KilnWorker());
  const rows: CoverageRow[] = new Array(entries.length);
  let next = 0;
  try {
    await Promise.all(workers.map(async (worker) => {
      while (next < entries.length) {
        const i = next++;
        rows[i] = await coverageOf(entries[i], join(scratch, String(i)), worker);
      }
    }));
  } finally {
    await Promise.all(workers.map((w) => w.close()));
    await Deno.remove(scratch, { recursive: true });
  }
  return rows;

  async function coverageOf(e: Entry, root: string, worker: KilnWorker): Promise<CoverageRow> {
    await Deno.mkdir(root, { recursive: true });
    const sidecar = join(dir, e.name.replace(/\.json$/, ".d"));
    try {
      await Deno.stat(sidecar);
      const cp = await new Deno.Command("cp", { args: ["-a", `${sidecar}/.`, root] }).output();
      if (!cp.success) throw new Error(`cannot copy ${sidecar}`);
    } catch (err) {
      if (!(err instanceof Deno.errors.NotFound)) throw err;
    }
    const target = join(root, e.path);
    await Deno.mkdir(dirname(target), { recursive: true });
    await Deno.copyFile(join(dir, e.name), target);
    const args = [...e.args, basename(target)];
    const [kiln, packer] = await Promise.all([
      worker.validate({ dir: dirname(target), args }),
      options.packer === "live"
        ? packerValidate(dirname(target), args).then((a) => ({
          code: a.code,
          // The scratch directory differs per run: recorded answers name it {{DIR}}.
          output: a.output.replaceAll(root, "{{DIR}}"),
        }))
        : Promise.resolve(options.packer === "recorded" ? recorded[e.name] : undefined),
    ]);
    let types;
    try {
      types = componentTypes(JSON.parse(await Deno.readTextFile(target)));
    } catch {
      types = componentTypes({});
    }
    const missing = (Object.keys(types) as (keyof typeof types)[]).flatMap((kind) =>
      types[kind].filter((t) => !known[kind].has(t)).map((t) => `${kind}:${t}`)
    );
    const kilnVerdict: Verdict = kiln.code === 0 ? "accept" : "reject";
    const packerVerdict: Verdict | undefined = packer
      ? (packer.code === 0 ? "accept" : "reject")
      : undefined;
    const issues = issueLines(kiln.output);
    let agreement: Agreement;
    if (packerVerdict === undefined) agreement = "no packer";
    else if (packerVerdict === kilnVerdict) agreement = "same";
    else if (
      kilnVerdict === "reject" && issues.length > 0 && issues.every((l) => UNKNOWN_TYPE.test(l))
    ) agreement = "kiln lacks a component";
    else if (packerVerdict === "reject" && NO_NETWORK.test(packer!.output)) {
      agreement = "Packer needs the network";
    } else if (packerVerdict === "reject" && onlyNewerOptions(packer!.output)) {
      agreement = "Packer predates an option";
    } else agreement = "differs";
    return {
      name: e.name,
      kiln: kilnVerdict,
      packer: packerVerdict,
      agreement,
      missing,
      allComponents: missing.length === 0,
      runnable: types.builder.some((t) => known.builder.has(t)) &&
        !missing.some((m) => !m.startsWith("builder:")),
      kilnSays: (issues[0] ?? "").replace(/^ {2}\* /, ""),
      packerSays: packer ? firstPackerError(packer.output) : "",
      packerAnswer: packer,
    };
  }
}

function firstPackerError(output: string): string {
  const lines = output.split("\n").map((l) => l.trim()).filter((l) => l !== "");
  return lines.find((l) => l.startsWith("* ")) ?? lines[0] ?? "";
}

/** The table and its summary lines. */
export function formatCoverage(rows: CoverageRow[]): string {
  const width = Math.max(...rows.map((r) => r.name.length));
  const head = `${"template".padEnd(width)}  kiln    packer  same  components  runnable`;
  const lines = rows.map((r) =>
    [
      r.name.padEnd(width),
      r.kiln.padEnd(6),
      (r.packer ?? "-").padEnd(6),
      (r.agreement === "same" ? "yes" : r.agreement === "differs" ? "NO" : "~").padEnd(4),
      (r.allComponents ? "all" : `lacks ${r.missing.join(",")}`).padEnd(10),
      r.runnable ? "yes" : "no",
    ].join("  ")
  );
  return [head, ...lines, "", ...summaryLines(rows)].join("\n");
}

/** The summary: agreement, components, runnable. */
export function summaryLines(rows: CoverageRow[]): string[] {
  const count = (f: (r: CoverageRow) => boolean) => rows.filter(f).length;
  const m = rows.length;
  const out = [];
  if (rows.some((r) => r.packer !== undefined)) {
    out.push(`${count((r) => r.agreement === "same")} same verdict of ${m}`);
    out.push(
      `${count((r) => r.agreement === "kiln lacks a component")} kiln rejects only for ` +
        "component types it lacks, where Packer accepts (expected)",
    );
    out.push(
      `${count((r) => r.agreement === "Packer needs the network")} Packer rejects for want of ` +
        "the network (downloading a checksum file), where kiln accepts",
    );
    out.push(
      `${count((r) => r.agreement === "Packer predates an option")} Packer 1.6.6 rejects only ` +
        "options of the current documents it predates (metadata_options, ...), where kiln accepts",
    );
    out.push(`${count((r) => r.agreement === "differs")} differ`);
  }
  out.push(`${count((r) => r.allComponents)} with all components`);
  out.push(`${count((r) => r.runnable)} runnable (goal >= 55)`);
  return out;
}

if (import.meta.main) {
  const { values } = parseArgs({
    args: Deno.args,
    options: {
      "no-packer": { type: "boolean" },
      recorded: { type: "boolean" },
      record: { type: "boolean" },
      json: { type: "boolean" },
    },
  });
  const packer: PackerSource = values["no-packer"]
    ? "none"
    : values.recorded
    ? "recorded"
    : await havePacker()
    ? "live"
    : "none";
  if (values.record && packer !== "live") {
    console.error("realworld.ts: --record needs Packer 1.6.6 installed");
    Deno.exit(1);
  }
  const rows = await realworldCoverage({ packer });
  if (values.record) {
    const answers = Object.fromEntries(rows.map((r) => [r.name, r.packerAnswer]));
    await Deno.mkdir(dirname(PACKER_ANSWERS), { recursive: true });
    await Deno.writeTextFile(PACKER_ANSWERS, JSON.stringify(answers, null, 1) + "\n");
  }
  if (values.json) console.log(JSON.stringify(rows, null, 2));
  else {
    console.log(formatCoverage(rows));
    for (const r of rows.filter((r) => r.agreement === "differs")) {
      console.log(
        `\n${r.name}: kiln ${r.kiln}s (${r.kilnSays || "-"}); packer ${r.packer}s (${
          r.packerSays || "-"
        })`,
      );
    }
  }
}
