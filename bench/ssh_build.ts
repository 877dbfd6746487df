/**
 * Whole-build benchmark over SSH: the same null-builder template (connect, a
 * `shell` provisioner, a `file` provisioner uploading a 64 MiB file) through
 * `deno run -A cli.ts build` and `packer build` (1.6.6) to one loopback sshd,
 * timed side by side by `hyperfine` in one run. Peak RSS of each comes from
 * `/usr/bin/time -v` (for Packer: its largest process; it runs plugins as
 * child processes).
 *
 * With `--memory-gib N` (default 1; 0 skips it), also builds a template whose
 * file provisioner uploads an N GiB file, once per transfer method, each in a
 * fresh kiln process, and reports that process's peak RSS against the
 * 120 MiB goal: a transfer must stream, never buffer the file.
 *
 *   deno run -A bench/ssh_build.ts [--runs 5] [--size-mib 64] [--memory-gib 1]
 */
import { writeRandomFile } from "../tests/support/random_file.ts";
import { parseArgs } from "node:util";
import { generateKey, startSshd } from "../tests/support/sshd.ts";

const { values } = parseArgs({
  args: Deno.args,
  options: {
    runs: { type: "string", default: "5" },
    "size-mib": { type: "string", default: "64" },
    "memory-gib": { type: "string", default: "1" },
  },
});
const runs = Number(values.runs);
const sizeMib = Number(values["size-mib"]);
const memoryGib = Number(values["memory-gib"]);
const cli = new URL("../cli.ts", import.meta.url).pathname;
/** Goals from issue 4. */
const WALL_GOAL = 0.6;
const RSS_GOAL_MIB = 120;

async function have(tool: string, args: string[]): Promise<boolean> {
  try {
    return (await new Deno.Command(tool, { args, stdout: "null", stderr: "null" }).output())
      .success;
  } catch {
    return false;
  }
}

for (const [tool, args] of [["hyperfine", ["--version"]], ["packer", ["version"]]] as const) {
  if (!(await have(tool, [...args]))) {
    console.error(`bench/ssh_build.ts: skipped, \`${tool}\` is not installed`);
    Deno.exit(0);
  }
}
if (!(await have("/usr/bin/time", ["-v", "true"]))) {
  console.error("bench/ssh_build.ts: skipped, GNU time is missing (apt-get install -y time)");
  Deno.exit(0);
}

const dir = await Deno.makeTempDir({ prefix: "kiln-bench-build-" });
const home = `${dir}/kiln-home`;
const key = await generateKey(dir, "client");
const sshd = await startSshd({ authorizedKeys: [key.publicKey] });
// Packer only: kiln ignores it, and Packer must not phone home during the timing.
const env = { KILN_HOME: home, CHECKPOINT_DISABLE: "1", NO_COLOR: "1" };

/** A null-builder template: connect, one shell provisioner, one file upload. */
async function writeTemplate(
  name: string,
  source: string,
  method: "scp" | "sftp",
): Promise<string> {
  const template = {
    builders: [{
      type: "null",
      communicator: "ssh",
      ssh_host: "127.0.0.1",
      ssh_port: sshd.port,
      ssh_username: sshd.user,
      ssh_private_key_file: key.privateKeyPath,
      ssh_timeout: "10s",
      ssh_file_transfer_method: method,
    }],
    provisioners: [
      { type: "shell", inline: [`echo run >> ${dir}/counter`, "uname -sr"] },
      { type: "file", source, destination: `${dir}/uploaded-${name}.bin` },
    ],
  };
  const path = `${dir}/${name}.json`;
  await Deno.writeTextFile(path, JSON.stringify(template, null, 2));
  return path;
}

const kilnBuild = (template: string) => ["deno", "run", "-A", cli, "build", template];
const packerBuild = (template: string) => ["packer", "build", "-color=false", template];

/** Peak RSS (MiB) of one run under GNU time; throws if the build fails. */
async function peakRss(argv: string[]): Promise<number> {
  const out = await new Deno.Command("/usr/bin/time", {
    args: ["-v", ...argv],
    cwd: dir,
    env,
    stdout: "null",
    stderr: "piped",
  }).output();
  const text = new TextDecoder().decode(out.stderr);
  if (!out.success) throw new Error(`${argv.join(" ")} failed:\n${text.slice(-2000)}`);
  const kb = text.match(/Maximum resident set size \(kbytes\): (\d+)/);
  if (!kb) throw new Error(`no RSS figure from /usr/bin/time:\n${text.slice(-500)}`);
  return Number(kb[1]) / 1024;
}

const q = (argv: string[]) => argv.map((a) => `'${a.replaceAll("'", `'\\''`)}'`).join(" ");

try {
  const big = `${dir}/big.bin`;
  await writeRandomFile(big, sizeMib);
  const template = await writeTemplate("build", big, "scp");

  // hyperfine times both commands in one run; a warm-up fills the page cache and
  // Deno's module cache so neither side pays a one-off cost the other does not.
  const json = `${dir}/hyperfine.json`;
  const hf = await new Deno.Command("hyperfine", {
    args: [
      "--warmup",
      "1",
      "--runs",
      String(runs),
      "--style",
      "basic",
      "--export-json",
      json,
      "-n",
      "kiln",
      q(kilnBuild(template)),
      "-n",
      "packer 1.6.6",
      q(packerBuild(template)),
    ],
    cwd: dir,
    env,
    stdout: "inherit",
    stderr: "inherit",
  }).output();
  if (!hf.success) throw new Error("hyperfine failed");
  const results = JSON.parse(await Deno.readTextFile(json)).results as {
    command: string;
    mean: number;
    stddev: number;
    median: number;
  }[];
  const [kiln, packer] = results;
  const kilnRss = await peakRss(kilnBuild(template));
  const packerRss = await peakRss(packerBuild(template));
  const ratio = kiln.median / packer.median;

  const memory: { method: string; mib: number; seconds: number }[] = [];
  if (memoryGib > 0) {
    const huge = `${dir}/huge.bin`;
    await writeRandomFile(huge, memoryGib * 1024);
    for (const method of ["scp", "sftp"] as const) {
      const t = await writeTemplate(`memory-${method}`, huge, method);
      const started = performance.now();
      const mib = await peakRss(kilnBuild(t));
      memory.push({ method, mib, seconds: (performance.now() - started) / 1000 });
      await Deno.remove(`${dir}/uploaded-memory-${method}.bin`);
    }
  }

  const ms = (s: number) => (s * 1000).toFixed(0);
  console.log(
    `\nWhole null-builder build over SSH (connect + shell + ${sizeMib} MiB upload, scp), ` +
      `loopback sshd, hyperfine median of ${runs}\n`,
  );
  console.log("| tool | median ms | mean ± σ ms | peak RSS | wall ratio vs packer |");
  console.log("|---|---:|---:|---:|---:|");
  console.log(
    `| kiln | ${ms(kiln.median)} | ${ms(kiln.mean)} ± ${ms(kiln.stddev)} | ` +
      `${kilnRss.toFixed(0)} MiB | ${ratio.toFixed(2)}× (goal ≤ ${WALL_GOAL}×) |`,
  );
  console.log(
    `| packer 1.6.6 | ${ms(packer.median)} | ${ms(packer.mean)} ± ${ms(packer.stddev)} | ` +
      `${packerRss.toFixed(0)} MiB | 1.00× |`,
  );
  if (memory.length > 0) {
    console.log(`\nPeak RSS of a fresh kiln process building a ${memoryGib} GiB upload\n`);
    console.log("| method | wall s | peak RSS (whole process) | goal |");
    console.log("|---|---:|---:|---|");
    for (const m of memory) {
      console.log(
        `| ${m.method} | ${m.seconds.toFixed(1)} | ${m.mib.toFixed(0)} MiB | ` +
          `≤ ${RSS_GOAL_MIB} MiB ${m.mib <= RSS_GOAL_MIB ? "met" : "MISSED"} |`,
      );
    }
  }
} finally {
  await sshd.stop();
  await Deno.remove(sshd.dir, { recursive: true }).catch(() => {});
  await Deno.remove(dir, { recursive: true }).catch(() => {});
}
