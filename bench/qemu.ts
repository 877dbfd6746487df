/**
 * The qemu builder, side by side in one run:
 *
 * 1. The same template (the realistic test guest — Debian with systemd,
 *    cloud-init and OpenSSH — booted from its disk under TCG with a NoCloud
 *    seed attached through `qemuargs` (Packer 1.6.6 has no `cd_files`),
 *    a shell provisioner over SSH, `shutdown_command`, qcow2 compaction)
 *    through `kiln build` and `packer build` (1.6.6),
 *    alternated, `--runs` each: median wall, the ratio, each tool's peak
 *    RSS (qemu itself excluded: it is the same qemu for both), and kiln's
 *    time outside the guest (its log's timestamps: before qemu started and
 *    after it exited).
 * 2. Resume after `kill -9` mid-provisioning (the VM runs on; `--resume`
 *    reattaches) against starting over (`cleanup`, then a new build), with
 *    a provisioning phase of `--provision-s` seconds after the kill point.
 * 3. Disk finalisation: kiln's convert step against `qemu-img convert`
 *    alone on the same qcow2 (`--disk-mib` MiB of data), alternated.
 *
 *   deno run -A bench/qemu.ts [--runs 3] [--provision-s 20] [--disk-mib 1024]
 *
 * Builds talk to 127.0.0.1 only. Root's login shell on this host is never
 * involved: commands are spawned directly; the guest's user is a plain
 * account made by cloud-init. (The fast busybox guest is not used: Packer
 * 1.6.6's SSH client and its dropbear never complete a handshake.)
 */
import { parseArgs } from "node:util";
import { join } from "node:path";
import { ensureRealisticGuest, makeSeedIso } from "../tests/support/guests/mod.ts";
import { writeRandomFile } from "../tests/support/random_file.ts";
import { convertStep } from "../steps/qemu/convert.ts";
import { qemuConfig } from "../builders/qemu/config.ts";
import { QEMU_STEP } from "../steps/qemu/outputs.ts";
import type { StepContext } from "../runtime/types.ts";

const { values } = parseArgs({
  args: Deno.args,
  options: {
    runs: { type: "string", default: "3" },
    "provision-s": { type: "string", default: "20" },
    "disk-mib": { type: "string", default: "1024" },
  },
});
const runs = Number(values.runs);
const provisionS = Number(values["provision-s"]);
const diskMib = Number(values["disk-mib"]);
/** Conversions are short and noisy: more of them than builds. */
const convertRuns = Math.max(5, runs);
const cli = new URL("../cli.ts", import.meta.url).pathname;
const WALL_GOAL = 0.9;
const CONVERT_GOAL = 1.1;

async function have(tool: string, args: string[]): Promise<boolean> {
  try {
    return (await new Deno.Command(tool, { args, stdout: "null", stderr: "null" }).output())
      .success;
  } catch {
    return false;
  }
}

for (const [tool, args] of [["packer", ["version"]], ["qemu-img", ["--version"]]] as const) {
  if (!(await have(tool, [...args]))) {
    console.error(`bench/qemu.ts: skipped, \`${tool}\` is not installed`);
    Deno.exit(0);
  }
}

const guest = await ensureRealisticGuest();
const dir = await Deno.makeTempDir({ prefix: "kiln-bench-qemu-" });
const key = join(dir, "id_ed25519");
await new Deno.Command("ssh-keygen", { args: ["-q", "-t", "ed25519", "-N", "", "-f", key] })
  .output();
const seed = join(dir, "seed.iso");
await makeSeedIso(seed, {
  userData: "#cloud-config\nusers:\n  - name: bench\n    sudo: ALL=(ALL) NOPASSWD:ALL\n" +
    "    shell: /bin/sh\n    ssh_authorized_keys:\n      - " +
    (await Deno.readTextFile(`${key}.pub`)).trim() + "\n",
});
const home = join(dir, "kiln-home");
// Packer must not phone home during the timing; kiln ignores it.
const env = {
  KILN_HOME: home,
  CHECKPOINT_DISABLE: "1",
  NO_COLOR: "1",
  PACKER_CACHE_DIR: join(dir, "cache"),
};

function builder(outDir: string): Record<string, unknown> {
  return {
    type: "qemu",
    disk_image: true,
    iso_url: guest.qcow2Disk,
    iso_checksum: "none",
    // Packer 1.6.6 defaults to kvm, which never boots a guest here; both get tcg.
    accelerator: "tcg",
    headless: true,
    memory: 1024,
    disk_size: "2560M",
    output_directory: outDir,
    qemuargs: [["-cdrom", seed]],
    ssh_username: "bench",
    ssh_private_key_file: key,
    ssh_timeout: "5m",
    shutdown_command: "sudo poweroff",
  };
}

async function writeTemplate(name: string, provisioners: unknown[]): Promise<string> {
  const path = join(dir, `${name}.json`);
  await Deno.writeTextFile(
    path,
    JSON.stringify({ builders: [builder(join(dir, `out-${name}`))], provisioners }, null, 2),
  );
  return path;
}

/** Peak RSS (VmHWM) of the largest process of a tree, qemu left out, sampled. */
class TreeRss {
  #peakKb = 0;
  #timer: number;
  constructor(readonly root: number) {
    this.#timer = setInterval(() => this.#sample(), 100) as unknown as number;
  }
  #sample() {
    for (const pid of descendants(this.root)) {
      try {
        const comm = Deno.readTextFileSync(`/proc/${pid}/comm`).trim();
        if (comm.startsWith("qemu-system")) continue;
        const hwm = Deno.readTextFileSync(`/proc/${pid}/status`).match(/VmHWM:\s+(\d+)/);
        if (hwm) this.#peakKb = Math.max(this.#peakKb, Number(hwm[1]));
      } catch { /* gone */ }
    }
  }
  stop(): number {
    this.#sample();
    clearInterval(this.#timer);
    return this.#peakKb / 1024;
  }
}

function descendants(root: number): number[] {
  const children = new Map<number, number[]>();
  for (const e of Deno.readDirSync("/proc")) {
    if (!/^\d+$/.test(e.name)) continue;
    try {
      const stat = Deno.readTextFileSync(`/proc/${e.name}/stat`);
      const ppid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
      children.set(ppid, [...(children.get(ppid) ?? []), Number(e.name)]);
    } catch { /* gone */ }
  }
  const out = [root];
  for (let i = 0; i < out.length; i++) out.push(...(children.get(out[i]) ?? []));
  return out;
}

interface Timed {
  seconds: number;
  rssMib: number;
  code: number;
  signal: Deno.Signal | null;
  output: string;
}

async function timed(argv: string[], extraEnv: Record<string, string> = {}): Promise<Timed> {
  const started = performance.now();
  const child = new Deno.Command(argv[0], {
    args: argv.slice(1),
    cwd: dir,
    env: { ...env, ...extraEnv },
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const rss = new TreeRss(child.pid);
  const out = await child.output();
  const rssMib = rss.stop();
  const dec = new TextDecoder();
  return {
    seconds: (performance.now() - started) / 1000,
    rssMib,
    code: out.code,
    signal: out.signal,
    output: dec.decode(out.stdout) + dec.decode(out.stderr),
  };
}

const kiln = (args: string[]) => [Deno.execPath(), "run", "-A", cli, ...args];
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

function runIdOf(output: string): string {
  const m = output.match(/kiln: run (\d{8}T\d{6}Z-[0-9a-f]+)/);
  if (!m) throw new Error(`no run id in:\n${output.slice(-1000)}`);
  return m[1];
}

/** Seconds kiln spent outside the guest: before qemu started and after it exited. */
async function outsideGuest(runId: string): Promise<number> {
  const text = await Deno.readTextFile(join(home, "runs", runId, "events.jsonl"));
  const records = text.trimEnd().split("\n").map((l) => JSON.parse(l));
  const at = (pred: (r: Record<string, unknown>) => boolean) =>
    Date.parse(String(records.find(pred)?.ts));
  const first = Date.parse(records[0].ts);
  const last = Date.parse(records.at(-1).ts);
  const vmUp = at((r) => r.type === "VmStarted");
  const vmDown = at((r) =>
    r.type === "ResourceDeleted" && (r.data as Record<string, unknown>).kind === "qemu.vm"
  );
  return ((vmUp - first) + (last - vmDown)) / 1000;
}

async function fresh(path: string) {
  await Deno.remove(path, { recursive: true }).catch(() => {});
}

try {
  // 1. Whole build, alternated.
  const template = await writeTemplate("build", [
    { type: "shell", inline: ["uname -a", "cat /proc/cpuinfo | grep -c processor"] },
  ]);
  const kilnRuns: Timed[] = [];
  const packerRuns: Timed[] = [];
  const outside: number[] = [];
  for (let i = 0; i < runs; i++) {
    await fresh(join(dir, "out-build"));
    const k = await timed(kiln(["build", template]));
    if (k.code !== 0) throw new Error(`kiln build failed:\n${k.output.slice(-3000)}`);
    kilnRuns.push(k);
    outside.push(await outsideGuest(runIdOf(k.output)));
    await fresh(join(dir, "out-build"));
    const p = await timed(["packer", "build", "-color=false", template]);
    if (p.code !== 0) throw new Error(`packer build failed:\n${p.output.slice(-3000)}`);
    packerRuns.push(p);
  }
  const kMed = median(kilnRuns.map((r) => r.seconds));
  const pMed = median(packerRuns.map((r) => r.seconds));

  // 2. Resume after kill -9 vs starting over.
  const long = await writeTemplate("resume", [
    { type: "shell", inline: ["echo first"] },
    { type: "shell", inline: [`sleep ${provisionS}`, "echo second"] },
  ]);
  await fresh(join(dir, "out-resume"));
  const killed = await timed(kiln(["build", long]), { KILN_CRASH_AFTER: "ProvisionerSucceeded" });
  if (killed.signal !== "SIGKILL") throw new Error(`not killed:\n${killed.output.slice(-2000)}`);
  const runId = runIdOf(killed.output);
  const resumed = await timed(kiln(["build", "--resume", runId]));
  if (resumed.code !== 0) throw new Error(`resume failed:\n${resumed.output.slice(-3000)}`);
  await fresh(join(dir, "out-resume"));
  const killed2 = await timed(kiln(["build", long]), { KILN_CRASH_AFTER: "ProvisionerSucceeded" });
  const runId2 = runIdOf(killed2.output);
  const restart = await timed(kiln(["cleanup", runId2]));
  const again = await timed(kiln(["build", long]));
  if (again.code !== 0) throw new Error(`rebuild failed:\n${again.output.slice(-3000)}`);
  const overAgain = restart.seconds + again.seconds;

  // 3. Disk finalisation: the convert step against qemu-img alone.
  const raw = join(dir, "data.raw");
  await writeRandomFile(raw, diskMib);
  const source = join(dir, "source.qcow2");
  await new Deno.Command("qemu-img", {
    args: ["convert", "-O", "qcow2", raw, source],
  }).output();
  await Deno.remove(raw);
  const stepTimes: number[] = [];
  const aloneTimes: number[] = [];
  const config = qemuConfig({ format: "qcow2", disk_size: "64M" });
  // Each conversion starts from a fresh copy whose dirty pages are flushed
  // first (else one side pays the other's writeback), and the order
  // alternates run by run.
  const disk = join(dir, "disk.qcow2");
  const freshCopy = async () => {
    await Deno.remove(`${disk}.alone`).catch(() => {});
    await Deno.copyFile(source, disk);
    await new Deno.Command("sync").output();
  };
  const viaStep = async () => {
    await freshCopy();
    const ctx = {
      config,
      state: { [QEMU_STEP.disk]: { disks: [disk] } },
      signal: new AbortController().signal,
      ui: { say() {}, message() {}, error() {} },
    } as unknown as StepContext;
    const t = performance.now();
    await convertStep().run(ctx);
    stepTimes.push((performance.now() - t) / 1000);
  };
  const alone = async () => {
    await freshCopy();
    const t = performance.now();
    const out = await new Deno.Command("qemu-img", {
      args: ["convert", "-O", "qcow2", disk, `${disk}.alone`],
    }).output();
    aloneTimes.push((performance.now() - t) / 1000);
    if (!out.success) throw new Error("qemu-img convert failed");
  };
  for (let i = 0; i < convertRuns; i++) {
    if (i % 2 === 0) {
      await viaStep();
      await alone();
    } else {
      await alone();
      await viaStep();
    }
  }
  const stepMed = median(stepTimes);
  const aloneMed = median(aloneTimes);

  const s = (x: number) => x.toFixed(1);
  console.log(
    `\nqemu builder: Debian cloud-init guest disk image under TCG, shell provisioner over SSH, ` +
      `poweroff, qcow2 compaction; median of ${runs}, alternated\n`,
  );
  console.log("| tool | median s | runs (s) | peak RSS (qemu excluded) | wall ratio vs packer |");
  console.log("|---|---:|---|---:|---:|");
  const row = (name: string, rs: Timed[], med: number, ratio: string) =>
    console.log(
      `| ${name} | ${s(med)} | ${rs.map((r) => s(r.seconds)).join(", ")} | ` +
        `${Math.max(...rs.map((r) => r.rssMib)).toFixed(0)} MiB | ${ratio} |`,
    );
  const ratio = kMed / pMed;
  row(
    "kiln",
    kilnRuns,
    kMed,
    `${ratio.toFixed(2)}× (goal ≤ ${WALL_GOAL}× ${ratio <= WALL_GOAL ? "met" : "MISSED"})`,
  );
  row("packer 1.6.6", packerRuns, pMed, "1.00×");
  console.log(
    `\nkiln outside the guest (log timestamps: start → VmStarted, qemu gone → end): ` +
      `median ${s(median(outside))} s of ${s(kMed)} s`,
  );
  console.log(
    `\nResume after kill -9 mid-provisioning (${provisionS} s of provisioning left):\n`,
  );
  console.log("| path | s |");
  console.log("|---|---:|");
  console.log(`| build until killed | ${s(killed.seconds)} |`);
  console.log(`| --resume (reattach, finish) | ${s(resumed.seconds)} |`);
  console.log(`| cleanup + build from scratch | ${s(overAgain)} |`);
  console.log(`| time saved by resuming | ${s(overAgain - resumed.seconds)} |`);
  console.log(
    `\nDisk finalisation of a ${diskMib} MiB-data qcow2, median of ${convertRuns}, alternated:\n`,
  );
  console.log("| what | median s | MiB/s | ratio |");
  console.log("|---|---:|---:|---:|");
  const cr = stepMed / aloneMed;
  console.log(
    `| kiln convert step | ${s(stepMed)} | ${(diskMib / stepMed).toFixed(0)} | ${cr.toFixed(2)}× ` +
      `(goal ≤ ${CONVERT_GOAL}× ${cr <= CONVERT_GOAL ? "met" : "MISSED"}) |`,
  );
  console.log(
    `| qemu-img convert alone | ${s(aloneMed)} | ${(diskMib / aloneMed).toFixed(0)} | 1.00× |`,
  );
} finally {
  await Deno.remove(dir, { recursive: true }).catch(() => {});
}
