/** POSIX shell quoting for paths placed in remote command lines. */

/** Quotes `text` for a POSIX shell, leaving plain paths readable. */
export function shellQuote(text: string): string {
  if (/^[A-Za-z0-9_@%+=:,./-]+$/.test(text)) return text;
  return `'${text.replaceAll("'", `'"'"'`)}'`;
}
