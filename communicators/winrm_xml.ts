/**
 * The little XML kiln needs for WS-Management: a non-validating parser into
 * a tree addressed by local names (prefixes vary between peers — pywinrm
 * writes `env:`, Windows answers `s:` — while the namespaces do not), and
 * escaping for text and attribute values. SOAP envelopes carry no DTDs,
 * comments worth keeping or mixed content, so none of that is modelled.
 */

/** One element: local name, attributes by local name, text, children. */
export interface XmlNode {
  name: string;
  attrs: Record<string, string>;
  text: string;
  children: XmlNode[];
}

const ENTITIES: Record<string, string> = {
  lt: "<",
  gt: ">",
  amp: "&",
  quot: '"',
  apos: "'",
};

function decodeEntities(text: string): string {
  if (!text.includes("&")) return text;
  return text.replace(/&(#x[0-9a-fA-F]+|#\d+|[a-z]+);/g, (whole, ref: string) => {
    if (ref.startsWith("#x")) return String.fromCodePoint(parseInt(ref.slice(2), 16));
    if (ref.startsWith("#")) return String.fromCodePoint(parseInt(ref.slice(1), 10));
    return ENTITIES[ref] ?? whole;
  });
}

/** Escapes text for an element body or an attribute value. */
export function xmlEscape(text: string): string {
  return text.replace(
    /[<>&"']/g,
    (c) =>
      c === "<"
        ? "&lt;"
        : c === ">"
        ? "&gt;"
        : c === "&"
        ? "&amp;"
        : c === '"'
        ? "&quot;"
        : "&apos;",
  );
}

function localName(qname: string): string {
  const i = qname.indexOf(":");
  return i < 0 ? qname : qname.slice(i + 1);
}

const ATTR = /([^\s=]+)\s*=\s*(?:"([^"]*)"|'([^']*)')/g;

/** Parses a document; throws with the offset of the first thing it cannot read. */
export function parseXml(source: string): XmlNode {
  const root: XmlNode = { name: "#document", attrs: {}, text: "", children: [] };
  const stack: XmlNode[] = [root];
  let pos = 0;
  while (pos < source.length) {
    const lt = source.indexOf("<", pos);
    const textEnd = lt < 0 ? source.length : lt;
    if (textEnd > pos) stack[stack.length - 1].text += decodeEntities(source.slice(pos, textEnd));
    if (lt < 0) break;
    if (source.startsWith("<?", lt) || source.startsWith("<!--", lt)) {
      const close = source.startsWith("<?", lt) ? "?>" : "-->";
      const end = source.indexOf(close, lt);
      if (end < 0) throw new Error(`unterminated markup at offset ${lt}`);
      pos = end + close.length;
      continue;
    }
    if (source.startsWith("<![CDATA[", lt)) {
      const end = source.indexOf("]]>", lt);
      if (end < 0) throw new Error(`unterminated CDATA at offset ${lt}`);
      stack[stack.length - 1].text += source.slice(lt + 9, end);
      pos = end + 3;
      continue;
    }
    const gt = source.indexOf(">", lt);
    if (gt < 0) throw new Error(`unterminated tag at offset ${lt}`);
    const body = source.slice(lt + 1, gt);
    pos = gt + 1;
    if (body.startsWith("/")) {
      const name = localName(body.slice(1).trim());
      const open = stack.pop();
      if (!open || open === root || open.name !== name) {
        throw new Error(`unexpected </${body.slice(1).trim()}> at offset ${lt}`);
      }
      continue;
    }
    const selfClosing = body.endsWith("/");
    const inner = selfClosing ? body.slice(0, -1) : body;
    const space = inner.search(/\s/);
    const qname = space < 0 ? inner : inner.slice(0, space);
    if (!qname) throw new Error(`empty tag at offset ${lt}`);
    const node: XmlNode = { name: localName(qname), attrs: {}, text: "", children: [] };
    if (space >= 0) {
      for (const m of inner.slice(space).matchAll(ATTR)) {
        if (m[1].startsWith("xmlns")) continue;
        node.attrs[localName(m[1])] = decodeEntities(m[2] ?? m[3] ?? "");
      }
    }
    stack[stack.length - 1].children.push(node);
    if (!selfClosing) stack.push(node);
  }
  if (stack.length !== 1) throw new Error(`unclosed <${stack[stack.length - 1].name}>`);
  const top = root.children[0];
  if (!top) throw new Error("no element in document");
  return top;
}

/** The first descendant (depth first, including `node`) named `name`. */
export function findFirst(node: XmlNode, name: string): XmlNode | undefined {
  if (node.name === name) return node;
  for (const child of node.children) {
    const hit = findFirst(child, name);
    if (hit) return hit;
  }
  return undefined;
}

/** Every descendant named `name`, in document order. */
export function findAll(node: XmlNode, name: string, out: XmlNode[] = []): XmlNode[] {
  if (node.name === name) out.push(node);
  for (const child of node.children) findAll(child, name, out);
  return out;
}
