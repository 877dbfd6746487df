/**
 * The HCL grammar, loaded once and only when an HCL file is read: JSON
 * `validate` never pays for the WebAssembly start-up.
 *
 * Why tree-sitter (measured on this machine, see docs/hcl.md): it gives a
 * full syntax tree with a position on every node for ~25 ms of start-up,
 * where the Go HCL builds on npm load in 0.3 s (`@cdktf/hcl2json`, whose
 * output keeps expressions as strings) and 1.6 s (`hcl2-parser`, no
 * diagnostics at all).
 */
import { createRequire } from "node:module";
import type { Parser as TsParser } from "web-tree-sitter";

let parser: Promise<TsParser> | undefined;
let ready: TsParser | undefined;

async function load(): Promise<TsParser> {
  const { Language, Parser } = await import("web-tree-sitter");
  await Parser.init();
  // Importing the package's manifest puts the package in Deno's module graph; its main
  // module is a native addon and is never loaded.
  await import("@tree-sitter-grammars/tree-sitter-hcl/package.json", { with: { type: "json" } });
  const require = createRequire(import.meta.url);
  const wasm = require.resolve("@tree-sitter-grammars/tree-sitter-hcl/tree-sitter-hcl.wasm");
  const language = await Language.load(await Deno.readFile(wasm));
  const p = new Parser();
  p.setLanguage(language);
  ready = p;
  return p;
}

/** The parser if it is already loaded (any HCL file read so far loaded it). */
export function loadedHclParser(): TsParser | undefined {
  return ready;
}

/** The shared tree-sitter parser for HCL, started on first use. */
export function hclParser(): Promise<TsParser> {
  parser ??= load().catch((err) => {
    parser = undefined;
    throw err;
  });
  return parser;
}
