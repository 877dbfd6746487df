/**
 * Escaping for pages built from run logs: a log may hold anything a template,
 * a script's output or an attacker put in it, so every string goes through
 * here before it reaches HTML text or a quoted attribute.
 */

const ENTITIES: Record<string, string> = {
  "&": "&amp;",
  "<": "&lt;",
  ">": "&gt;",
  '"': "&quot;",
  "'": "&#39;",
};

/** `s` safe as HTML text and as a double- or single-quoted attribute value. */
export function esc(s: string): string {
  // Control characters other than tab and newline have no place in a page.
  return s.replace(/[&<>"']/g, (c) => ENTITIES[c]).replace(
    // deno-lint-ignore no-control-regex
    /[\u0000-\u0008\u000b-\u001f\u007f]/g,
    "\ufffd",
  );
}
