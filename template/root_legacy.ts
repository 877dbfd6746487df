/**
 * The two root keys Packer 1.6.6's template parser still accepts without
 * using them: `push` (the Atlas push configuration, removed from Packer in
 * 1.4 but still decoded so old templates keep validating) and `comments`
 * (a list of objects of strings). kiln checks their shape as Packer's
 * decoder does and otherwise ignores them: neither changes a build.
 */
import { childPath } from "./source.ts";
import { isObject } from "./values.ts";

/** Root keys that are accepted, shape-checked and ignored. */
export const LEGACY_ROOT_KEYS: ReadonlySet<string> = new Set(["push", "comments"]);

/**
 * Reports what Packer's decoder refuses in `push` and `comments`
 * (null stands for "not set", as in Packer).
 */
export function checkLegacyRootKeys(
  root: Record<string, unknown>,
  report: (path: string, message: string) => void,
): void {
  const push = root.push;
  if (push !== undefined && push !== null && !isObject(push)) {
    report("push", `expected an object (Packer's former push settings), got ${kindOf(push)}`);
  }
  const comments = root.comments;
  if (comments === undefined || comments === null) return;
  if (!Array.isArray(comments)) {
    report("comments", `expected an array of objects of strings, got ${kindOf(comments)}`);
    return;
  }
  comments.forEach((item, i) => {
    const path = childPath("comments", i);
    if (item === null) return;
    if (!isObject(item)) {
      report(path, `expected an object of strings, got ${kindOf(item)}`);
      return;
    }
    for (const [k, v] of Object.entries(item)) {
      if (v !== null && typeof v !== "string") {
        report(childPath(path, k), `expected a string, got ${kindOf(v)}`);
      }
    }
  });
}

function kindOf(v: unknown): string {
  if (Array.isArray(v)) return "an array";
  if (isObject(v)) return "an object";
  return typeof v === "string" ? "a string" : typeof v === "number" ? "a number" : `${v}`;
}
