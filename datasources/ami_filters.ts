/**
 * The amazon-ami data source's `filters` map as EC2 filters. Since the
 * current amazon plugin, a value is one CSV record: `"hvm, paravirtual"` is
 * two values (either matches) and a value holding a comma is quoted
 * (`"\"a,b\""`). Read as Go's encoding/csv with TrimLeadingSpace and
 * LazyQuotes reads one record.
 */
import type { Ec2Filter } from "../steps/aws/find_image.ts";

/** One CSV record, or undefined when there is none (an empty or blank value). */
export function csvRecord(text: string): string[] | undefined {
  // encoding/csv skips empty lines before a record.
  let i = 0;
  while (text[i] === "\n" || (text[i] === "\r" && text[i + 1] === "\n")) {
    i += text[i] === "\n" ? 1 : 2;
  }
  if (i >= text.length) return undefined;
  const fields: string[] = [];
  for (;;) {
    while (i < text.length && /\s/.test(text[i]) && text[i] !== "\n") i++;
    let field = "";
    if (text[i] === '"') {
      i++;
      for (; i < text.length; i++) {
        if (text[i] !== '"') {
          field += text[i];
        } else if (text[i + 1] === '"') {
          field += '"';
          i++;
        } else if (i + 1 >= text.length || text[i + 1] === "," || text[i + 1] === "\n") {
          i++;
          break;
        } else if (text[i + 1] === "\r" && text[i + 2] === "\n") {
          i++;
          break;
        } else {
          field += '"'; // LazyQuotes: a stray quote is a character.
        }
      }
      // Whatever follows the closing quote up to the separator belongs to the field.
      while (i < text.length && text[i] !== "," && text[i] !== "\n" && text[i] !== "\r") {
        field += text[i++];
      }
    } else {
      while (i < text.length && text[i] !== "," && text[i] !== "\n") field += text[i++];
      if (field.endsWith("\r") && text[i] === "\n") field = field.slice(0, -1);
    }
    if (text[i] === "\r") i++;
    fields.push(field);
    if (text[i] !== ",") return fields;
    i++;
  }
}

/** The EC2 filters of a `filters` map; throws Packer's "Couldn't parse ami filters" for a blank value. */
export function ec2Filters(filters: Record<string, string>): Ec2Filter[] {
  return Object.entries(filters).map(([Name, value]) => {
    const Values = csvRecord(value);
    if (!Values) {
      throw new Error(`Couldn't parse ami filters: the value of "${Name}" is empty`);
    }
    return { Name, Values };
  });
}
