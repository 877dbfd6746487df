/**
 * Which builds and components run: `-only`/`-except` glob patterns on build
 * names, the `only`/`except` of provisioners and post-processors, and the
 * template-level checks Packer makes on them (unknown names, both set).
 */
import type { Template } from "./types.ts";
import { childPath } from "./source.ts";
import type { Report } from "./decode.ts";

/** Converts a gobwas/glob pattern (`*`, `?`, `[a-z]`, `{a,b}`) into a RegExp. */
export function globToRegExp(pattern: string): RegExp {
  let re = "";
  let inClass = false;
  let braces = 0;
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i];
    if (inClass) {
      if (c === "]") inClass = false;
      re += c === "\\" ? "\\\\" : c;
      continue;
    }
    switch (c) {
      case "*":
        re += ".*";
        break;
      case "?":
        re += ".";
        break;
      case "[":
        inClass = true;
        re += pattern[i + 1] === "!" ? (i++, "[^") : "[";
        break;
      case "{":
        braces++;
        re += "(?:";
        break;
      case "}":
        if (braces > 0) {
          braces--;
          re += ")";
        } else re += "\\}";
        break;
      case ",":
        re += braces > 0 ? "|" : ",";
        break;
      case "\\":
        i++;
        re += (pattern[i] ?? "\\").replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
        break;
      default:
        re += c.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
    }
  }
  try {
    return new RegExp(`^${re}$`);
  } catch {
    return new RegExp(`^${pattern.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}$`);
  }
}

/** The builder names selected by `-only`/`-except` (Packer: globs; -only wins when both are given). */
export function selectBuildNames(names: string[], only?: string[], except?: string[]): string[] {
  if (only && only.length > 0) {
    const res = only.map(globToRegExp);
    return names.filter((n) => res.some((r) => r.test(n)));
  }
  if (except && except.length > 0) {
    const res = except.map(globToRegExp);
    return names.filter((n) => !res.some((r) => r.test(n)));
  }
  return names;
}

/** Packer's OnlyExcept.Skip: is a component skipped for this build name? */
export function skips(
  def: { only?: string[]; except?: string[] },
  buildName: string,
): boolean {
  if (def.only && def.only.length > 0) return !def.only.includes(buildName);
  if (def.except && def.except.length > 0) return def.except.includes(buildName);
  return false;
}

function checkOnlyExcept(
  def: { only?: string[]; except?: string[]; path: string },
  builders: Set<string>,
  report: Report,
): void {
  if ((def.only?.length ?? 0) > 0 && (def.except?.length ?? 0) > 0) {
    report(def.path, "only one of 'only' or 'except' may be specified");
    return;
  }
  for (const key of ["only", "except"] as const) {
    (def[key] ?? []).forEach((name, i) => {
      if (!builders.has(name)) {
        report(
          childPath(childPath(def.path, key), i),
          `'${key}' specified builder '${name}' not found (build names: ${
            [...builders].join(", ")
          })`,
        );
      }
    });
  }
}

/** Packer's Template.Validate: builders present, only/except/override name real builds. */
export function checkTemplateReferences(t: Template, report: Report): void {
  if (t.builders.length === 0) report("builders", "at least one builder must be defined");
  const names = new Set(t.builders.map((b) => b.name));
  for (const p of t.provisioners) {
    checkOnlyExcept(p, names, report);
    for (const name of Object.keys(p.override ?? {})) {
      if (!names.has(name)) {
        report(
          childPath(childPath(p.path, "override"), name),
          `override '${name}' doesn't exist (no build has that name)`,
        );
      }
    }
  }
  for (const chain of t.postProcessors) for (const pp of chain) checkOnlyExcept(pp, names, report);
}
