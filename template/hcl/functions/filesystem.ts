/**
 * Filesystem functions: abspath basename dirname file fileexists fileset
 * pathexpand templatefile. Relative paths given to file, fileexists, fileset
 * and templatefile resolve against the configuration's directory
 * (`ctx.baseDir`); abspath, as Packer documents it, joins a relative path
 * with the working directory.
 */
import * as posix from "node:path/posix";
import {
  type FunctionContext,
  type HclFunction,
  isObject,
  type ObjectValue,
  type Value,
  ValueError,
} from "../value.ts";
import { fn, str } from "./args.ts";
import { globFiles } from "./glob.ts";

/** Renders a template file's text with its variables (the evaluator's template engine). */
export type TemplateRenderer = (text: string, vars: ObjectValue, file: string) => Value;

/** Go's filepath.Base. */
export function basename(p: string): string {
  if (p === "") return ".";
  const trimmed = p.replace(/\/+$/, "");
  if (trimmed === "") return "/";
  return trimmed.slice(trimmed.lastIndexOf("/") + 1);
}

/** Go's filepath.Dir: everything before the last element, cleaned. */
export function dirname(p: string): string {
  const dir = p.slice(0, p.lastIndexOf("/") + 1);
  return dir === "" ? "." : posix.normalize(dir).replace(/(.)\/$/, "$1");
}

function home(): string {
  const h = Deno.env.get("HOME");
  if (!h) throw new ValueError("cannot expand ~: the home directory is unknown", 0);
  return h;
}

/** `~` and `~/...` to the home directory, as pathexpand does. */
export function expandHome(p: string): string {
  if (p === "~") return home();
  if (p.startsWith("~/")) return home() + p.slice(1);
  return p;
}

function resolve(p: string, ctx: FunctionContext): string {
  return posix.resolve(ctx.baseDir, expandHome(p));
}

function readText(path: string, shown: string): string {
  let bytes: Uint8Array;
  try {
    bytes = Deno.readFileSync(path);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) throw new ValueError(`no file exists at ${shown}`, 0);
    throw new ValueError(`failed to read ${shown}: ${(e as Error).message}`, 0);
  }
  try {
    return new TextDecoder("utf-8", { fatal: true }).decode(bytes);
  } catch {
    throw new ValueError(
      `contents of ${shown} are not valid UTF-8; use the filebase64 function to obtain the Base64 encoded contents`,
      0,
    );
  }
}

function fileexists(a: Value[], ctx: FunctionContext): boolean {
  const shown = str(a, 0, "path");
  let info: Deno.FileInfo;
  try {
    info = Deno.statSync(resolve(shown, ctx));
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return false;
    throw new ValueError(`failed to stat ${shown}: ${(e as Error).message}`, 0);
  }
  if (!info.isFile) {
    throw new ValueError(
      `${shown} is not a regular file, but ${info.isDirectory ? "a directory" : "a special file"}`,
      0,
    );
  }
  return true;
}

/**
 * The filesystem family; `render` makes templatefile work (without it,
 * templatefile reports that it is not available).
 */
export function filesystemFunctions(render?: TemplateRenderer): Record<string, HclFunction> {
  return {
    abspath: fn(["path"], (a) => posix.resolve(Deno.cwd(), str(a, 0, "path"))),
    basename: fn(["path"], (a) => basename(str(a, 0, "path"))),
    dirname: fn(["path"], (a) => dirname(str(a, 0, "path"))),
    file: fn(["path"], (a, ctx) => {
      const p = str(a, 0, "path");
      return readText(resolve(p, ctx), p);
    }),
    fileexists: fn(["path"], fileexists),
    fileset: fn(["path", "pattern"], (a, ctx) => {
      const root = resolve(str(a, 0, "path"), ctx);
      return globFiles(root, str(a, 1, "pattern"));
    }),
    pathexpand: fn(["path"], (a) => expandHome(str(a, 0, "path"))),
    templatefile: fn(["path", "vars"], (a, ctx) => {
      const p = str(a, 0, "path");
      const vars = a[1];
      if (!isObject(vars)) {
        throw new ValueError(`Invalid value for "vars" parameter: vars must be an object`, 1);
      }
      if (!render) throw new ValueError("templatefile is not available here", 0);
      const file = resolve(p, ctx);
      return render(readText(file, p), vars, file);
    }),
  };
}
