/**
 * kiln's own syntax tree for HCL native syntax, converted from tree-sitter's
 * concrete tree so the evaluator never sees grammar details (anonymous
 * operator tokens, postfix traversals flattened into siblings, literal text
 * split around whitespace).
 */
import type { Value } from "./value.ts";

/** A 1-based line and column plus a 0-based UTF-16 offset into the file's text. */
export interface Pos {
  line: number;
  column: number;
  offset: number;
}

/** A span of one file, for diagnostics. */
export interface Range {
  file: string;
  start: Pos;
  end: Pos;
}

/** One step of a traversal after a splat: `.name` or `[key]`. */
export type SplatStep = { attr: string; range: Range } | { index: Expr; range: Range };

/** A piece of a string template. */
export type TemplatePart =
  | { kind: "lit"; text: string }
  | { kind: "interp"; expr: Expr; range: Range }
  | { kind: "if"; cond: Expr; then: TemplatePart[]; else: TemplatePart[]; range: Range }
  | {
    kind: "for";
    keyVar?: string;
    valueVar: string;
    collection: Expr;
    body: TemplatePart[];
    range: Range;
  };

/** An HCL expression. */
export type Expr =
  | { kind: "literal"; value: Value; range: Range }
  | { kind: "template"; parts: TemplatePart[]; range: Range }
  | { kind: "var"; name: string; range: Range }
  | { kind: "getattr"; target: Expr; name: string; range: Range }
  | { kind: "index"; target: Expr; key: Expr; range: Range }
  | { kind: "splat"; target: Expr; steps: SplatStep[]; range: Range }
  | { kind: "call"; name: string; args: Expr[]; expandFinal: boolean; range: Range }
  | { kind: "tuple"; items: Expr[]; range: Range }
  | {
    kind: "object";
    items: { key: Expr; bareKey?: string; value: Expr }[];
    range: Range;
  }
  | { kind: "unary"; op: "-" | "!"; operand: Expr; range: Range }
  | { kind: "binary"; op: string; left: Expr; right: Expr; range: Range }
  | { kind: "conditional"; cond: Expr; then: Expr; else: Expr; range: Range }
  | {
    kind: "for";
    keyVar?: string;
    valueVar: string;
    collection: Expr;
    keyExpr?: Expr;
    valueExpr: Expr;
    cond?: Expr;
    group: boolean;
    object: boolean;
    range: Range;
  }
  | { kind: "paren"; expr: Expr; range: Range };

/** `name = expr` inside a body. */
export interface Attribute {
  name: string;
  expr: Expr;
  nameRange: Range;
  range: Range;
}

/** `type "label" ... { body }`. */
export interface Block {
  type: string;
  labels: string[];
  typeRange: Range;
  labelRanges: Range[];
  body: Body;
  range: Range;
}

/** The content of a file or of a block. */
export interface Body {
  attributes: Attribute[];
  blocks: Block[];
  range: Range;
}

/** One parsed configuration file. */
export interface HclFile {
  /** Path as given (for diagnostics). */
  path: string;
  /** The file's text (diagnostics quote its lines). */
  text: string;
  body: Body;
}
