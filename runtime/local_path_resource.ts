/**
 * Files and directories as ledger resources. Every local path a run records
 * — the file builder's target, a post-processor's output, a file artifice
 * adopts — uses these records and this one handler, so one rule decides
 * every local deletion: the identity recorded when the run made the thing
 * must still match (local_identity.ts), and the record must name exactly
 * one absolute path, the one shown when it is deleted.
 */
import { isAbsolute } from "node:path";
import type { ResourceHandler, ResourceRecord } from "./types.ts";
import { DeletionRefused } from "./errors.ts";
import {
  identityOf,
  identityOfSync,
  type OwnedPath,
  parseIdentity,
  provenanceProblem,
  removeOwned,
  sameIdentity,
  sameObject,
} from "./local_identity.ts";

/** Extra fields a component keeps with a record (e.g. which post-processor wrote it). */
export type RecordExtra = Record<string, unknown>;

/**
 * The record of `path` as it is now, right after the run made it; undefined
 * when nothing is there. `createdByRun` matters for directories only.
 */
export async function madeRecord(
  kind: string,
  path: string,
  extra: RecordExtra = {},
  owned: Pick<OwnedPath, "createdByRun" | "files"> = {},
): Promise<ResourceRecord | undefined> {
  const identity = await identityOf(path);
  if (!identity) return undefined;
  return {
    kind,
    id: path,
    data: {
      ...extra,
      path,
      identity,
      ...(identity.type === "dir" ? { createdByRun: owned.createdByRun === true } : {}),
      ...(owned.files?.length ? { files: owned.files } : {}),
    },
  };
}

/**
 * A write-ahead claim of the absent `path`, logged before a component
 * writes it: if the process dies before the identity is recorded, only a
 * regular file born after this moment counts as the run's. `scratch` marks
 * a temporary name the component renames or removes before it ends.
 */
export function claimRecord(
  kind: string,
  path: string,
  extra: RecordExtra = {},
  scratch = false,
): ResourceRecord {
  return {
    kind,
    id: path,
    data: {
      ...extra,
      path,
      claimedAt: new Date().toISOString(),
      ...(scratch ? { scratch: true } : {}),
    },
  };
}

/** Whether a record is one of these local-path records. */
export function isLocalPathRecord(r: Pick<ResourceRecord, "data">): boolean {
  return typeof r.data?.path === "string" &&
    (r.data.identity !== undefined || r.data.claimedAt !== undefined);
}

/** What a record lets the run prove about its path. */
export function ownedPathOf(r: Pick<ResourceRecord, "data">): OwnedPath {
  const d = r.data ?? {};
  const files = Array.isArray(d.files)
    ? d.files.flatMap((f: unknown) => {
      const o = f as { path?: unknown; identity?: unknown };
      const identity = parseIdentity(o?.identity);
      return typeof o?.path === "string" && identity ? [{ path: o.path, identity }] : [];
    })
    : undefined;
  return {
    identity: parseIdentity(d.identity),
    claimedAt: typeof d.claimedAt === "string" ? d.claimedAt : undefined,
    createdByRun: d.createdByRun === true,
    files,
  };
}

/** Why a record cannot be acted on at all (it must name one absolute path), or undefined. */
export function recordProblem(r: ResourceRecord): string | undefined {
  if (!isAbsolute(r.id)) return `the ledger names a relative path (${r.id})`;
  if (r.data?.path !== undefined && r.data.path !== r.id) {
    return `the ledger entry names two paths (${r.id} and ${String(r.data.path)})`;
  }
  return undefined;
}

/** Deletes a local-path record's file or directory, only when provably the run's. */
export const localPathHandler: ResourceHandler = {
  localPath: (r) => r.id,
  async delete(ctx, r) {
    const problem = recordProblem(r);
    if (problem) throw new DeletionRefused(problem);
    const removal = await removeOwned(r.id, ownedPathOf(r));
    if (removal.outcome === "refused") throw new DeletionRefused(removal.reason);
    if (removal.outcome === "deleted") ctx.ui.say(`Deleted ${r.id}`);
  },
};

/**
 * After a unit of the run's own work (a step, a post-processor) in the
 * process that did it: records whose object is still the same (device,
 * inode, birth) but whose size or mtime moved — a provisioner appended to
 * the target, say — get their identity again, since the change was made
 * while the run held the file. A different object is not adopted.
 */
export function refreshedRecords(records: ResourceRecord[]): ResourceRecord[] {
  const out: ResourceRecord[] = [];
  for (const r of records) {
    const recorded = parseIdentity(r.data?.identity);
    if (!recorded || recordProblem(r)) continue;
    let current;
    try {
      current = identityOfSync(r.id);
    } catch {
      continue;
    }
    if (!current || !sameObject(recorded, current) || sameIdentity(recorded, current)) continue;
    out.push({ ...r, data: { ...r.data, identity: current } });
  }
  return out;
}

/**
 * What a component's record of a path it planned becomes once the
 * component has ended: the record with the identity of what is there now
 * ("made"), "gone" when nothing is there, or "foreign" (with the reason)
 * when a write-ahead claim finds something it cannot show to be the run's —
 * born before the claim, not a regular file. Synchronous, as refreshedRecords.
 */
export function settledClaim(
  r: ResourceRecord,
): { made: ResourceRecord } | { gone: true } | { foreign: string } {
  const identity = identityOfSync(r.id);
  if (!identity) return { gone: true };
  const { claimedAt, ...rest } = r.data ?? {};
  if (typeof claimedAt === "string") {
    const problem = provenanceProblem({ claimedAt }, identity);
    if (problem) return { foreign: problem };
  }
  return {
    made: {
      ...r,
      data: { ...rest, identity, ...(identity.type === "dir" ? { createdByRun: true } : {}) },
    },
  };
}
