/**
 * A log too big to hold in memory (`deno run -A bench/log_scale.ts [--lines N] [--before DIR]`):
 * a chatty build (a shell-local script printing N lines, 3,300,000 by default: about 1 GiB of
 * log) is killed right after that script, then `kiln replay`, `runs show`, `runs`,
 * `build --resume` and `cleanup` each run on the log, with their wall time and peak RSS (GNU
 * time). The issue's goal: every one of them works, under 150 MB. With `--before DIR` (a
 * checkout of an older kiln) the same build and commands run through it too, side by side.
 */
import { join } from "node:path";
import { parseArgs } from "node:util";

const { values } = parseArgs({
  args: Deno.args,
  options: { lines: { type: "string", default: "3300000" }, before: { type: "string" } },
});
const LINES = Number(values.lines);
/** The V8 flags of `deno task kiln` (deno.json): the process measured is the one users run. */
const TASK_FLAGS = (JSON.parse(await Deno.readTextFile(new URL("../deno.json", import.meta.url)))
  .tasks.kiln as string).split(" ").filter((a) => a.startsWith("--v8-flags="));
const LINE = "chatty build output: " + "0123456789abcdef".repeat(5);

interface Measured {
  code: number;
  seconds: number;
  rssMb: number;
  stderr: string;
}

async function measured(
  cli: string,
  args: string[],
  env: Record<string, string>,
  cwd: string,
): Promise<Measured> {
  const rssFile = join(cwd, ".rss");
  const t0 = performance.now();
  const out = await new Deno.Command("/usr/bin/time", {
    args: ["-f", "%M", "-o", rssFile, Deno.execPath(), "run", "-A", ...TASK_FLAGS, cli, ...args],
    cwd,
    env: { NO_COLOR: "1", ...env },
    stdout: "null",
    stderr: "piped",
  }).output();
  const seconds = (performance.now() - t0) / 1000;
  const kb = Number((await Deno.readTextFile(rssFile)).trim().split("\n").at(-1));
  return {
    code: out.code,
    seconds,
    rssMb: kb / 1024,
    stderr: new TextDecoder().decode(out.stderr),
  };
}

async function copyTree(from: string, to: string): Promise<void> {
  await Deno.remove(to, { recursive: true }).catch(() => {});
  const out = await new Deno.Command("cp", { args: ["-a", from, to] }).output();
  if (!out.success) throw new Error(`cp ${from} ${to} failed`);
}

async function scale(label: string, root: string): Promise<void> {
  const cli = join(root, "cli.ts");
  const dir = await Deno.makeTempDir({ prefix: "kiln-logscale-" });
  try {
    const env = { KILN_HOME: join(dir, ".kiln"), KILN_SEAL_DIR: join(dir, "seals") };
    const template = join(dir, "chatty.json");
    await Deno.writeTextFile(
      template,
      JSON.stringify({
        builders: [{ type: "null", communicator: "none" }],
        provisioners: [
          { type: "shell-local", inline: [`yes '${LINE}' | head -n ${LINES}`] },
          { type: "shell-local", inline: ["echo after the chatty step"] },
        ],
      }),
    );
    const built = await measured(
      cli,
      ["build", template],
      { ...env, KILN_CRASH_AFTER: "ProvisionerSucceeded" },
      dir,
    );
    const runId = built.stderr.match(/\b(\d{8}T\d{6}Z-[0-9a-f]+)\b/)?.[1];
    if (!runId) throw new Error(`${label}: no run id: ${built.stderr.slice(-400)}`);
    const size = (await Deno.stat(join(dir, ".kiln", "runs", runId, "events.jsonl"))).size;
    console.log(
      `${label}: chatty build of ${LINES.toLocaleString("en")} lines -> ${
        (size / 2 ** 30).toFixed(2)
      } GiB log ` +
        `in ${built.seconds.toFixed(0)} s (peak RSS ${
          built.rssMb.toFixed(0)
        } MB), killed after the script`,
    );
    const report = (what: string, m: Measured) =>
      console.log(
        `  ${what.padEnd(14)} exit ${m.code}  ${m.seconds.toFixed(1).padStart(6)} s  peak RSS ` +
          `${m.rssMb.toFixed(0).padStart(5)} MB${
            m.code === 0 ? "" : `  (${m.stderr.trim().split("\n").at(-1)})`
          }`,
      );
    report("replay", await measured(cli, ["replay", runId], env, dir));
    report("runs show", await measured(cli, ["runs", "show", runId], env, dir));
    report("runs", await measured(cli, ["runs"], env, dir));
    // Resume changes the run; cleanup gets the interrupted one back (log and seal).
    await copyTree(join(dir, ".kiln"), join(dir, "kiln-copy"));
    await copyTree(join(dir, "seals"), join(dir, "seals-copy"));
    report("build --resume", await measured(cli, ["build", "--resume", runId], env, dir));
    await copyTree(join(dir, "kiln-copy"), join(dir, ".kiln"));
    await copyTree(join(dir, "seals-copy"), join(dir, "seals"));
    report("cleanup", await measured(cli, ["cleanup", runId], env, dir));
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

await scale("kiln", new URL("..", import.meta.url).pathname);
if (values.before) await scale(`before (${values.before})`, values.before);
