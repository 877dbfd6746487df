/**
 * The `packer` block: `required_version` is checked against the Packer
 * version kiln is compatible with, and `required_plugins` against the
 * components kiln has built in (kiln installs no plugins).
 */
import type { HclFile } from "./ast.ts";
import { type Diagnostic, DiagnosticError, error } from "./diagnostic.ts";
import { evaluate, type Scope } from "./eval.ts";
import { isObject } from "./value.ts";
import { PACKER_HCL_COMPAT_VERSION } from "../../version.ts";

/** Plugin sources whose components kiln has built in. */
export const BUILTIN_PLUGINS = [
  "github.com/hashicorp/amazon",
  "github.com/hashicorp/qemu",
] as const;

/** Problems with every `packer` block of the configuration. */
export function checkPackerBlock(
  files: HclFile[],
  scope: Scope,
  builtin: readonly string[] = BUILTIN_PLUGINS,
): Diagnostic[] {
  const out: Diagnostic[] = [];
  for (const file of files) {
    for (const block of file.body.blocks.filter((b) => b.type === "packer")) {
      for (const a of block.body.attributes) {
        if (a.name !== "required_version") {
          out.push(
            error(
              "Unsupported argument",
              `An argument named "${a.name}" is not expected in a packer block (it takes required_version and required_plugins).`,
              a.nameRange,
            ),
          );
          continue;
        }
        try {
          const v = evaluate(a.expr, scope);
          if (typeof v !== "string") {
            out.push(
              error(
                "Invalid required_version",
                'required_version is a version constraint string such as ">= 1.6.0".',
                a.expr.range,
              ),
            );
          } else {
            const problem = constraintProblem(v);
            if (problem) out.push(error("Unsupported Packer version", problem, a.expr.range));
          }
        } catch (err) {
          if (!(err instanceof DiagnosticError)) throw err;
          out.push(...err.diagnostics);
        }
      }
      for (const rp of block.body.blocks) {
        if (rp.type !== "required_plugins") {
          out.push(
            error(
              "Unsupported block type",
              `Blocks of type "${rp.type}" are not expected in a packer block.`,
              rp.typeRange,
            ),
          );
          continue;
        }
        for (const a of rp.body.attributes) {
          try {
            const v = evaluate(a.expr, scope);
            const source = isObject(v) && typeof v.source === "string" ? v.source : undefined;
            if (!source) {
              out.push(
                error(
                  "Invalid plugin requirement",
                  `"${a.name}" must be an object with a "source" (and usually a "version"), e.g. { version = ">= 1.0.0", source = "github.com/hashicorp/qemu" }.`,
                  a.expr.range,
                ),
              );
            } else if (!builtin.includes(source.replace(/^registry\.packer\.io\//, ""))) {
              out.push(error(
                "Plugin not available in kiln",
                `kiln installs no plugins; its components are built in. "${source}" is not one of them ` +
                  `(built in: ${
                    builtin.join(", ")
                  }, plus Packer's own builders, provisioners and post-processors).`,
                a.expr.range,
              ));
            }
          } catch (err) {
            if (!(err instanceof DiagnosticError)) throw err;
            out.push(...err.diagnostics);
          }
        }
      }
    }
  }
  return out;
}

type Version = number[];

function parse(v: string): Version | undefined {
  const m = /^v?(\d+)(?:\.(\d+))?(?:\.(\d+))?(?:[-+].*)?$/.exec(v.trim());
  return m ? [Number(m[1]), Number(m[2] ?? 0), Number(m[3] ?? 0)] : undefined;
}

function cmp(a: Version, b: Version): number {
  for (let i = 0; i < 3; i++) if (a[i] !== b[i]) return Math.sign(a[i] - b[i]);
  return 0;
}

/** hashicorp/go-version constraints: comma-separated `op version` with =, !=, >, >=, <, <=, ~>. */
function constraintProblem(text: string): string | undefined {
  const have = parse(PACKER_HCL_COMPAT_VERSION)!;
  for (const part of text.split(",")) {
    const m = /^\s*(=|!=|>=|<=|>|<|~>)?\s*(\S+)\s*$/.exec(part);
    const want = m ? parse(m[2]) : undefined;
    if (!m || !want) return `Malformed version constraint ${JSON.stringify(text)}.`;
    const c = cmp(have, want);
    const op = m[1] ?? "=";
    const ok = op === "="
      ? c === 0
      : op === "!="
      ? c !== 0
      : op === ">"
      ? c > 0
      : op === ">="
      ? c >= 0
      : op === "<"
      ? c < 0
      : op === "<="
      ? c <= 0
      : c >= 0 && have[0] === want[0] && (m[2].split(".").length < 3 || have[1] === want[1]);
    if (!ok) {
      return `This configuration requires Packer ${text.trim()}; kiln is compatible with Packer ${PACKER_HCL_COMPAT_VERSION}.`;
    }
  }
  return undefined;
}
