/**
 * The limits kiln puts on template input (README: "Limits"). Real templates
 * stay far below each; a hostile or generated file that crosses one gets a
 * clear error naming the file and the JSON path instead of a stack overflow
 * or unbounded memory. Packer 1.6.6 has no such limits except JSON nesting
 * (10,000 levels).
 */

/**
 * How deep objects and arrays may nest in a JSON or YAML file (YAML aliases
 * expanded). The YAML parser's recursion overflows the stack near 800 levels
 * before its code is warm; this leaves it room.
 */
export const MAX_NESTING = 500;

/**
 * How deep parentheses may nest in one `{{ }}` action, and how deep
 * `{{if}}`/`{{with}}`/`{{range}}` blocks may nest in one string (an
 * `{{else if}}` chain is one level, however long).
 */
export const MAX_ENGINE_NESTING = 100;

/** The longest string one rendering may produce, in characters (16 MiB). */
export const MAX_RENDERED_LENGTH = 16 << 20;

/**
 * The most text that rendering may produce while one template is prepared
 * (variables and every option of every build together), in characters (64 MiB).
 */
export const MAX_RENDERED_TOTAL = 64 << 20;

/** "16 MiB": a character count as users read it in messages. */
export function mebibytes(chars: number): string {
  return `${Math.round(chars / (1 << 20))} MiB`;
}
