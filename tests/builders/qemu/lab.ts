/**
 * What the qemu builder's end-to-end tests share: a fast-guest template
 * (ISO typed into, or disk image booting on its own), the run's events and
 * ledger read back, and the qemu processes a run left, found by its tag.
 */
import { join } from "node:path";
import { ensureFastGuest, type FastGuest } from "../../support/guests/mod.ts";
import { type KilnCliOutput, runKiln } from "../../support/kiln_cli.ts";
import { runsRoot } from "../../../runtime/paths.ts";

/** A directory a qemu build runs in. */
export interface QemuLab {
  dir: string;
  home: string;
  guest: FastGuest;
  /** Writes the template and returns its path. */
  template(builder: Record<string, unknown>, extra?: Record<string, unknown>): Promise<string>;
  build(args: string[], env?: Record<string, string>): Promise<KilnCliOutput>;
  kiln(args: string[], env?: Record<string, string>): Promise<KilnCliOutput>;
}

/** The fast guest's ISO, typed into: it installs its disk onto vda and fetches `/f`. */
export function isoBuilder(guest: FastGuest, extra: Record<string, unknown> = {}) {
  return {
    type: "qemu",
    iso_url: guest.iso,
    iso_checksum: "none",
    headless: true,
    disk_size: "100M",
    boot_wait: "1s",
    boot_key_interval: "10ms",
    output_directory: "out",
    ssh_username: "root",
    ssh_private_key_file: guest.privateKey,
    ssh_timeout: "4m",
    shutdown_command: "poweroff",
    ...extra,
  };
}

/** The fast guest's disk, booting on its own. */
export function diskBuilder(guest: FastGuest, extra: Record<string, unknown> = {}) {
  return {
    type: "qemu",
    disk_image: true,
    iso_url: guest.qcow2Disk,
    iso_checksum: "none",
    headless: true,
    disk_size: "64M",
    // Packer waits boot_wait (default 10s) even with nothing to type.
    boot_wait: "1s",
    output_directory: "out",
    ssh_username: "root",
    ssh_private_key_file: guest.privateKey,
    ssh_timeout: "4m",
    shutdown_command: "poweroff",
    ...extra,
  };
}

/** Runs `fn` in a fresh lab, then stops whatever qemu the lab's runs left. */
export async function withQemuLab<T>(fn: (lab: QemuLab) => Promise<T>): Promise<T> {
  const guest = await ensureFastGuest();
  const dir = await Deno.makeTempDir({ prefix: "kiln-qemu-" });
  const home = join(dir, "home");
  const kiln = (args: string[], env: Record<string, string> = {}) =>
    runKiln(args, { cwd: dir, home, env: { PACKER_CACHE_DIR: join(dir, "cache"), ...env } });
  const lab: QemuLab = {
    dir,
    home,
    guest,
    async template(builder, extra = {}) {
      const file = join(dir, "t.json");
      await Deno.writeTextFile(file, JSON.stringify({ builders: [builder], ...extra }, null, 2));
      return file;
    },
    build: (args, env) => kiln(["build", ...args], env),
    kiln,
  };
  try {
    return await fn(lab);
  } finally {
    for (const pid of qemuPidsOfHome(home)) {
      try {
        Deno.kill(pid, "SIGKILL");
      } catch { /* gone */ }
    }
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  }
}

/** The only run in `home`. */
export function onlyRun(home: string): string {
  const ids = [...Deno.readDirSync(runsRoot(home))].map((e) => e.name);
  if (ids.length !== 1) throw new Error(`expected one run in ${home}, found ${ids.join(", ")}`);
  return ids[0];
}

/** A logged record. */
export interface Logged {
  seq: number;
  type: string;
  step: string | null;
  data: Record<string, unknown>;
}

/** The run's events, in order. */
export async function events(home: string, runId: string): Promise<Logged[]> {
  const text = await Deno.readTextFile(join(runsRoot(home), runId, "events.jsonl"));
  return text.trimEnd().split("\n").map((line) => JSON.parse(line));
}

function cmdline(pid: string): string[] {
  try {
    return Deno.readTextFileSync(`/proc/${pid}/cmdline`).split("\0");
  } catch {
    return [];
  }
}

function isZombie(pid: string): boolean {
  try {
    const stat = Deno.readTextFileSync(`/proc/${pid}/stat`);
    return stat.slice(stat.lastIndexOf(")") + 2).startsWith("Z");
  } catch {
    return true;
  }
}

/** Live qemu processes whose kiln monitor socket lies under `home` (zombies count as dead). */
export function qemuPidsOfHome(home: string): number[] {
  const pids: number[] = [];
  for (const entry of Deno.readDirSync("/proc")) {
    if (!/^\d+$/.test(entry.name)) continue;
    const args = cmdline(entry.name);
    if (!args[0]?.includes("qemu-system")) continue;
    if (!args.some((a) => a.includes(`path=${home}/`))) continue;
    if (!isZombie(entry.name)) pids.push(Number(entry.name));
  }
  return pids;
}

/** Live qemu processes carrying run `runId`'s tag. */
export function qemuPidsOfRun(runId: string): number[] {
  const pids: number[] = [];
  for (const entry of Deno.readDirSync("/proc")) {
    if (!/^\d+$/.test(entry.name)) continue;
    const args = cmdline(entry.name);
    if (!args.some((a) => a.includes(`id=kiln-${runId}-`))) continue;
    if (!isZombie(entry.name)) pids.push(Number(entry.name));
  }
  return pids;
}

/** Whether anything exists at `path`. */
export function exists(path: string): boolean {
  try {
    Deno.lstatSync(path);
    return true;
  } catch {
    return false;
  }
}
