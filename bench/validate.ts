/**
 * `kiln validate` vs `packer validate`, whole process: wall time with
 * hyperfine (both commands in one run) and peak RSS with GNU time
 * (`/usr/bin/time -v`), on a few JSON corpus templates and on a realistic
 * multi-file HCL2 configuration (`bench/fixtures/hcl_multi/`: four sources
 * of three builder types, typed and validated variables, locals built with
 * functions and for expressions, provisioners with only/except/override, a
 * post-processor chain and an auto var file). Prints the ratios.
 *
 *   deno run -A bench/validate.ts [--runs N] [--format json|hcl]
 *
 * Packer 1.6.6 starts one plugin process per component for an HCL2
 * configuration, so its HCL wall time is much longer than its JSON one, and
 * GNU time's peak RSS is that of its largest single process, not the sum.
 *
 * Needs `packer` (1.6.6), `hyperfine` and `/usr/bin/time` (Debian `time`).
 */
import { parseArgs } from "node:util";

const root = new URL("..", import.meta.url).pathname.replace(/\/$/, "");
const corpus = `${root}/tests/fixtures/templates`;
/** What each row validates: a name for the table and the path both tools get. */
interface Target {
  name: string;
  path: string;
  format: "json" | "hcl";
}
const TARGETS: Target[] = [
  ...[
    "accept-null-none.json",
    "accept-provisioner-common.json",
    "accept-pp-forms.json",
    "build-functions.json",
  ].map((name): Target => ({ name, path: `${corpus}/${name}`, format: "json" })),
  { name: "hcl_multi/ (HCL2)", path: `${root}/bench/fixtures/hcl_multi`, format: "hcl" },
];
/** The goals for the mean wall-time ratio kiln/packer, per format. */
const GOALS = { json: 0.8, hcl: 0.5 };

const { values } = parseArgs({
  args: Deno.args,
  options: { runs: { type: "string", default: "20" }, format: { type: "string" } },
});
const runs = Number(values.runs);
if (values.format !== undefined && values.format !== "json" && values.format !== "hcl") {
  console.error(`--format must be json or hcl, not ${JSON.stringify(values.format)}`);
  Deno.exit(2);
}

async function exec(
  cmd: string,
  args: string[],
): Promise<{ code: number; stdout: string; stderr: string }> {
  const out = await new Deno.Command(cmd, { args, stdout: "piped", stderr: "piped", cwd: root })
    .output();
  const dec = new TextDecoder();
  return { code: out.code, stdout: dec.decode(out.stdout), stderr: dec.decode(out.stderr) };
}

async function need(cmd: string, args: string[], hint: string): Promise<void> {
  try {
    await exec(cmd, args);
  } catch {
    console.error(`${cmd} is missing: ${hint}`);
    Deno.exit(1);
  }
}

/** Median peak RSS (KiB) of `argv` over a few runs, from GNU time's report. */
async function peakRss(argv: string[], samples = 5): Promise<number> {
  const values: number[] = [];
  for (let i = 0; i < samples; i++) {
    const r = await exec("/usr/bin/time", ["-v", ...argv]);
    const m = /Maximum resident set size \(kbytes\): (\d+)/.exec(r.stderr);
    if (!m) throw new Error(`no RSS in /usr/bin/time output for ${argv.join(" ")}`);
    values.push(Number(m[1]));
  }
  values.sort((a, b) => a - b);
  return values[Math.floor(values.length / 2)];
}

await need("hyperfine", ["--version"], "apt-get install -y hyperfine");
await need("packer", ["version"], "apt-get install -y packer");
await need("/usr/bin/time", ["-V"], "apt-get install -y time");

const kiln = [Deno.execPath(), "run", "--allow-all", `${root}/cli.ts`, "validate"];
const rows: string[][] = [];
const formats: Target["format"][] = [];
const tmp = await Deno.makeTempDir({ prefix: "kiln-bench-" });
try {
  for (const [index, { name, path, format }] of TARGETS.entries()) {
    if (values.format && values.format !== format) continue;
    const kilnCmd = [...kiln, path];
    const packerCmd = ["packer", "validate", path];
    for (const argv of [kilnCmd, packerCmd]) {
      const r = await exec(argv[0], argv.slice(1));
      if (r.code !== 0) throw new Error(`${argv.join(" ")} failed:\n${r.stdout}${r.stderr}`);
    }
    const json = `${tmp}/${index}.json`;
    const hf = await exec("hyperfine", [
      "--warmup",
      "3",
      "--runs",
      String(runs),
      "-N",
      "--export-json",
      json,
      "--command-name",
      "kiln",
      kilnCmd.join(" "),
      "--command-name",
      "packer",
      packerCmd.join(" "),
    ]);
    if (hf.code !== 0) throw new Error(`hyperfine failed:\n${hf.stderr}`);
    const results = JSON.parse(await Deno.readTextFile(json)).results as {
      command: string;
      mean: number;
      stddev: number;
    }[];
    const [k, p] = results;
    const kRss = await peakRss(kilnCmd);
    const pRss = await peakRss(packerCmd);
    rows.push([
      name,
      `${(k.mean * 1000).toFixed(1)} ± ${(k.stddev * 1000).toFixed(1)}`,
      `${(p.mean * 1000).toFixed(1)} ± ${(p.stddev * 1000).toFixed(1)}`,
      (k.mean / p.mean).toFixed(2),
      String(Math.round(kRss / 1024)),
      String(Math.round(pRss / 1024)),
      (kRss / pRss).toFixed(2),
    ]);
    formats.push(format);
  }
} finally {
  await Deno.remove(tmp, { recursive: true });
}

const header = ["template", "kiln ms", "packer ms", "time ×", "kiln MiB", "packer MiB", "RSS ×"];
const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
const line = (r: string[]) => r.map((c, i) => c.padEnd(widths[i])).join("  ");
console.log(line(header));
console.log(widths.map((w) => "-".repeat(w)).join("  "));
for (const r of rows) console.log(line(r));
console.log();
for (const format of ["json", "hcl"] as const) {
  const of = rows.filter((_, i) => formats[i] === format);
  if (of.length === 0) continue;
  const mean = (i: number) => of.reduce((s, r) => s + Number(r[i]), 0) / of.length;
  console.log(
    `${format.toUpperCase()}: mean wall-time ratio kiln/packer: ${mean(3).toFixed(2)} ` +
      `(goal ≤ ${GOALS[format].toFixed(2)}); mean peak-RSS ratio: ${mean(6).toFixed(2)}`,
  );
}
