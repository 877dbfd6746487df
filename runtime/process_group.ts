/**
 * A local process group as a ledger resource. A local command (shell-local,
 * as a provisioner or a post-processor) runs as the leader of its own group;
 * the group is recorded with what proves it is the same group later — the
 * pgid, the leader's start time, the boot id and a marker in the
 * environment its processes inherit — so that `--resume`, compensation and
 * `kiln cleanup` can stop what a killed kiln left running, and never signal
 * anything else:
 *
 * - the leader alive (or a zombie) with the recorded start time: the group
 *   is ours, and so is every member (Linux does not reuse a pid while it
 *   names a group);
 * - the leader gone: members of that pgid count only when one of them
 *   carries the marker and started after the leader;
 * - another boot, a reused pid, nothing left: the group is gone.
 *
 * Zombies count as dead. Stopping is SIGTERM to the whole group, a grace for
 * every member (a script's `trap ... TERM` gets to finish), then SIGKILL.
 */
import type { ResourceHandler, ResourceRecord } from "./types.ts";
import { allProcesses, bootId, hasEnvEntry, isDead, readProcStat } from "./proc_stat.ts";
import { parseDuration } from "../template/duration.ts";

/** The ledger kind of a local process group. */
export const LOCAL_PROCESS_GROUP = "local.process_group";

/** The environment variable whose value marks every process of one group. */
export const GROUP_MARKER_ENV = "KILN_PROCESS_GROUP";

/** Grace between SIGTERM and SIGKILL unless KILN_TERM_GRACE says otherwise. */
export const DEFAULT_TERM_GRACE_MS = 2_000;

/** How long members may take to die after SIGKILL before stopping counts as failed. */
const KILL_WAIT_MS = 5_000;

const POLL_MS = 25;

/** What identifies one process group across processes (and kiln restarts). */
export interface ProcessGroupIdentity {
  pgid: number;
  /** The leader's start time (field 22 of /proc/<pgid>/stat). */
  leaderStart: string;
  /** /proc/sys/kernel/random/boot_id when the group started. */
  bootId: string;
  /** Value of KILN_PROCESS_GROUP in the group's environment. */
  marker: string;
}

/** How stopping a group ended. */
export type StopOutcome = "gone" | "terminated" | "killed";

/**
 * The grace between SIGTERM and SIGKILL: KILN_TERM_GRACE (a Go duration such
 * as "10s") or 2 s, as Packer's plugin client gives a plugin.
 */
export function termGraceMs(): number {
  const text = Deno.env.get("KILN_TERM_GRACE");
  if (text === undefined || text === "") return DEFAULT_TERM_GRACE_MS;
  const ms = parseDuration(text);
  if (ms === undefined || ms < 0) {
    throw new Error(
      `KILN_TERM_GRACE: expected a duration such as "10s", got ${JSON.stringify(text)}`,
    );
  }
  return ms;
}

/**
 * The identity of the group `pid` leads, read right after it started
 * (undefined without procfs, or if it is already gone).
 */
export function identifyGroup(pid: number, marker: string): ProcessGroupIdentity | undefined {
  const stat = readProcStat(pid);
  const boot = bootId();
  if (!stat || !boot || stat.pgrp !== pid) return undefined;
  return { pgid: pid, leaderStart: stat.start, bootId: boot, marker };
}

/** The ledger record of a group (temporary: it never outlives the build). */
export function groupRecord(
  group: ProcessGroupIdentity,
  extra: { graceMs: number; label?: string },
): ResourceRecord {
  return {
    kind: LOCAL_PROCESS_GROUP,
    id: `${group.pgid}@${group.leaderStart}`,
    data: { ...group, graceMs: extra.graceMs, ...(extra.label ? { label: extra.label } : {}) },
    temporary: true,
  };
}

/** The identity a ledger record names; throws when the record is not one kiln wrote. */
export function groupOfRecord(resource: ResourceRecord): ProcessGroupIdentity {
  const d = resource.data ?? {};
  const pgid = d.pgid;
  const ok = typeof pgid === "number" && Number.isInteger(pgid) && pgid > 1 &&
    typeof d.leaderStart === "string" && /^\d+$/.test(d.leaderStart) &&
    typeof d.bootId === "string" && d.bootId !== "" &&
    typeof d.marker === "string" && d.marker !== "";
  if (!ok) {
    throw new Error(
      `ledger entry ${resource.kind} ${resource.id} does not name a process group ` +
        `(expected data.pgid > 1, data.leaderStart, data.bootId and data.marker); refusing to signal`,
    );
  }
  return {
    pgid: pgid as number,
    leaderStart: d.leaderStart as string,
    bootId: d.bootId as string,
    marker: d.marker as string,
  };
}

/**
 * The group's members that still run, when the group is provably `group`;
 * empty when it is gone or when what holds its pgid now is something else.
 */
export function liveMembers(group: ProcessGroupIdentity): number[] {
  if (bootId() !== group.bootId) return [];
  // Never the group kiln itself runs in, whatever a ledger says.
  if (readProcStat(Deno.pid)?.pgrp === group.pgid) return [];
  const leader = readProcStat(group.pgid);
  if (leader && leader.start !== group.leaderStart) return []; // pid reused: ours ended before
  const born = Number(group.leaderStart);
  const members = allProcesses().filter((p) =>
    p.pgrp === group.pgid && !isDead(p) && Number(p.start) >= born
  );
  if (leader) return members.map((p) => p.pid);
  const entry = `${GROUP_MARKER_ENV}=${group.marker}`;
  return members.some((p) => hasEnvEntry(p.pid, entry)) ? members.map((p) => p.pid) : [];
}

/** Whether any member of the group still runs. */
export function groupAlive(group: ProcessGroupIdentity): boolean {
  return liveMembers(group).length > 0;
}

/**
 * Stops the group: SIGTERM to every member, up to `graceMs` for all of them
 * to exit, then SIGKILL. Resolves once no member runs; throws if one
 * survives SIGKILL (a process stuck in the kernel).
 */
export async function stopProcessGroup(
  group: ProcessGroupIdentity,
  graceMs: number,
): Promise<StopOutcome> {
  if (!signalGroup(group, "SIGTERM")) return "gone";
  if (await goneWithin(group, graceMs)) return "terminated";
  if (!signalGroup(group, "SIGKILL")) return "terminated";
  if (await goneWithin(group, KILL_WAIT_MS)) return "killed";
  throw new Error(
    `process group ${group.pgid} still runs ${KILL_WAIT_MS / 1000} s after SIGKILL ` +
      `(members ${liveMembers(group).join(", ")})`,
  );
}

/** Signals the group if it is provably ours and running; false when there was nothing to signal. */
function signalGroup(group: ProcessGroupIdentity, signal: Deno.Signal): boolean {
  // Checked right before the signal: the group cannot be replaced while a member lives.
  if (!groupAlive(group)) return false;
  try {
    Deno.kill(-group.pgid, signal);
  } catch {
    return false; // Gone in between.
  }
  return true;
}

async function goneWithin(group: ProcessGroupIdentity, ms: number): Promise<boolean> {
  const end = Date.now() + ms;
  for (;;) {
    if (!groupAlive(group)) return true;
    if (Date.now() >= end) return false;
    await new Promise((r) => setTimeout(r, Math.min(POLL_MS, Math.max(1, end - Date.now()))));
  }
}

/**
 * Deletes a `local.process_group`: stops it when it is still the recorded
 * group; anything else (gone, another boot, a reused pid) counts as deleted.
 */
export const processGroupHandler: ResourceHandler = {
  local: true,
  async delete(ctx, resource) {
    const group = groupOfRecord(resource);
    const grace = typeof resource.data?.graceMs === "number"
      ? resource.data.graceMs
      : termGraceMs();
    const label = typeof resource.data?.label === "string" ? ` (${resource.data.label})` : "";
    if (!groupAlive(group)) return;
    ctx.ui.say(
      `Stopping process group ${group.pgid}${label}: SIGTERM, then SIGKILL after ${grace / 1000} s`,
    );
    const outcome = await stopProcessGroup(group, grace);
    if (outcome === "killed") {
      ctx.ui.say(`Process group ${group.pgid} ignored SIGTERM for ${grace / 1000} s: killed`);
    } else if (outcome === "terminated") {
      ctx.ui.say(`Process group ${group.pgid} stopped`);
    }
  },
};
