/**
 * Reads a configuration file in HCL's JSON syntax (`*.pkr.json`) into the
 * same syntax tree as native syntax, so variables, locals, sources, builds
 * and data sources are read by the same code whatever the file's syntax.
 *
 * JSON cannot tell an attribute from a block, so HCL decides by schema:
 * a property is a block when the schema of the body it sits in names a block
 * type of that name, and its labels are the keys of nested objects. Packer's
 * schemas are mirrored here for the bodies the front end reads as blocks;
 * component bodies (a source's or provisioner's options) turn every property
 * into an attribute, which the option decoder accepts for nested options too.
 */
import type { Attribute, Block, Body, HclFile } from "./ast.ts";
import { type Diagnostic, DiagnosticError, error } from "./diagnostic.ts";
import { jsonExpr, jsonStaticExpr } from "./json_expr.ts";
import { type JsonDoc, type JsonMember, type JsonNode, parseJsonTree } from "./json_tree.ts";
import { hclParser } from "./tree_sitter.ts";

interface BlockSchema {
  labels: number;
  body: BodySchema;
}

interface BodySchema {
  blocks: Record<string, BlockSchema>;
  /** Attributes read by static analysis (their strings hold expressions, not templates). */
  static?: readonly string[];
  /** The top level holds only blocks: any other property is an error. */
  blocksOnly?: boolean;
}

const ATTRIBUTES: BodySchema = { blocks: {} };

/** `dynamic "x" { for_each, iterator, labels, content { ... } }` generating `content` bodies. */
function dynamicOf(content: BodySchema): BlockSchema {
  return {
    labels: 1,
    body: { blocks: { content: { labels: 0, body: content } }, static: ["iterator"] },
  };
}

// A component body's `dynamic` blocks generate component bodies, themselves able to hold some.
const COMPONENT: BodySchema = { blocks: {} };
COMPONENT.blocks.dynamic = dynamicOf(COMPONENT);

const BUILD: BodySchema = {
  blocks: {
    source: { labels: 1, body: COMPONENT },
    provisioner: { labels: 1, body: COMPONENT },
    "error-cleanup-provisioner": { labels: 1, body: COMPONENT },
    "post-processor": { labels: 1, body: COMPONENT },
    "post-processors": {
      labels: 0,
      body: { blocks: { "post-processor": { labels: 1, body: COMPONENT } } },
    },
    dynamic: dynamicOf(COMPONENT),
  },
};

const TOP: BodySchema = {
  blocksOnly: true,
  blocks: {
    packer: { labels: 0, body: { blocks: { required_plugins: { labels: 0, body: ATTRIBUTES } } } },
    variable: {
      labels: 1,
      body: { blocks: { validation: { labels: 0, body: ATTRIBUTES } }, static: ["type"] },
    },
    variables: { labels: 0, body: ATTRIBUTES },
    locals: { labels: 0, body: ATTRIBUTES },
    local: { labels: 1, body: ATTRIBUTES },
    source: { labels: 2, body: COMPONENT },
    data: { labels: 2, body: COMPONENT },
    build: { labels: 0, body: BUILD },
  },
};

// Keys of a legacy (JSON template) file, which is not HCL: say what to do with it.
const LEGACY_KEYS = new Set(["builders", "provisioners", "post-processors", "min_packer_version"]);

/** Parses a `.pkr.json` file; throws DiagnosticError listing every problem found. */
export async function parseHclJson(path: string, text: string): Promise<HclFile> {
  await hclParser(); // string templates are parsed by the native-syntax parser
  const doc = parseJsonTree(path, text);
  const problems: Diagnostic[] = [];
  const body = new Reader(doc, problems).body(doc.root, TOP, "the top level of the file");
  if (problems.length > 0) throw new DiagnosticError(problems);
  return { path, text, body };
}

class Reader {
  constructor(readonly doc: JsonDoc, readonly problems: Diagnostic[]) {}

  /** The objects of a body: the object itself, or each element of an array of objects. */
  objects(node: JsonNode, what: string): JsonMember[][] {
    if (node.kind === "object") return [node.members];
    if (node.kind === "array" && node.items.every((n) => n.kind === "object")) {
      return node.items.map((n) => (n as { members: JsonMember[] }).members);
    }
    this.problems.push(
      error(
        "Incorrect JSON value type",
        `${what} is written as a JSON object (or an array of objects), not ${describe(node)}.`,
        this.doc.range(node.start, node.end),
      ),
    );
    return [];
  }

  body(node: JsonNode, schema: BodySchema, what: string): Body {
    const attributes: Attribute[] = [];
    const blocks: Block[] = [];
    for (const members of this.objects(node, what)) {
      for (const m of members) {
        if (m.key === "//") continue; // a comment, per the JSON syntax
        const nameRange = this.doc.range(m.keySpan.start, m.keySpan.end);
        const blockSchema = Object.hasOwn(schema.blocks, m.key) ? schema.blocks[m.key] : undefined;
        if (blockSchema) {
          blocks.push(...this.blocks(m, blockSchema));
        } else if (schema.blocksOnly) {
          const legacy = LEGACY_KEYS.has(m.key)
            ? " This looks like a legacy JSON template, which kiln reads under a name not ending in .pkr.json (e.g. template.json); `kiln hcl2_upgrade` turns one into HCL."
            : ` The top level of a configuration holds ${Object.keys(schema.blocks).join(", ")}.`;
          this.problems.push(
            error(
              "Extraneous JSON object property",
              `No argument or block type is named "${m.key}".${legacy}`,
              nameRange,
            ),
          );
        } else {
          try {
            const expr = schema.static?.includes(m.key)
              ? jsonStaticExpr(this.doc, m.value)
              : jsonExpr(this.doc, m.value);
            attributes.push({
              name: m.key,
              expr,
              nameRange,
              range: this.doc.range(m.keySpan.start, m.value.end),
            });
          } catch (err) {
            if (!(err instanceof DiagnosticError)) throw err;
            this.problems.push(...err.diagnostics);
          }
        }
      }
    }
    return { attributes, blocks, range: this.doc.range(node.start, node.end) };
  }

  /** The blocks one property defines: its label levels as nested object keys, then the bodies. */
  blocks(m: JsonMember, schema: BlockSchema): Block[] {
    const out: Block[] = [];
    const typeRange = this.doc.range(m.keySpan.start, m.keySpan.end);
    const level = (node: JsonNode, labels: JsonMember[]) => {
      if (labels.length < schema.labels) {
        const what = `A "${m.key}" block's label ${labels.length + 1} (of ${schema.labels})`;
        for (const members of this.objects(node, what)) {
          for (const l of members) level(l.value, [...labels, l]);
        }
        return;
      }
      const bodies = node.kind === "array" ? node.items : [node];
      for (const b of bodies) {
        const from = labels.length > 0 ? labels[labels.length - 1].keySpan.start : m.keySpan.start;
        out.push({
          type: m.key,
          labels: labels.map((l) => l.key),
          typeRange,
          labelRanges: labels.map((l) => this.doc.range(l.keySpan.start, l.keySpan.end)),
          body: this.body(b, schema.body, `The body of a "${m.key}" block`),
          range: this.doc.range(from, b.end),
        });
      }
    };
    level(m.value, []);
    return out;
  }
}

function describe(node: JsonNode): string {
  switch (node.kind) {
    case "array":
      return "an array of other values";
    case "null":
      return "null";
    default:
      return `a ${node.kind}`;
  }
}
