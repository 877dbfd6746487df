/**
 * The `http` data source: one HTTP request, its body and headers as
 * attributes. Options and outputs as in Packer's current documentation;
 * a status outside 2xx fails, a body that is not text is returned with a
 * warning, as Packer does.
 */
import { isSet } from "../template/decode.ts";
import type { ConfigSchema } from "../template/schema.ts";
import type { DataSourcePlugin } from "./datasource.ts";
import { headerMap, isTextContentType } from "./http_content.ts";

const METHODS = ["HEAD", "GET", "POST", "PUT", "DELETE", "OPTIONS", "PATCH"] as const;

const schema: ConfigSchema = {
  fields: {
    url: {
      type: "string",
      required: true,
      doc: "The URL to request; it must answer 2xx with a text/* or application/json body.",
    },
    method: {
      type: "string",
      enum: METHODS,
      default: "GET",
      doc: "HTTP method: HEAD, GET, POST, PUT, DELETE, OPTIONS or PATCH.",
    },
    request_headers: { type: "string_map", doc: "Extra request headers." },
    request_body: { type: "string", doc: "The request payload (default: none)." },
  },
  check(config, report) {
    const url = config.url;
    if (typeof url === "string" && url !== "") {
      const scheme = /^([A-Za-z][A-Za-z0-9+.-]*):/.exec(url)?.[1]?.toLowerCase() ?? "";
      if (scheme !== "http" && scheme !== "https") {
        report(
          "url",
          `unsupported protocol scheme "${scheme}": the URL must be http:// or https://`,
        );
      }
    }
    // Go sends a body with any method; fetch refuses one on GET and HEAD.
    const method = config.method;
    if (isSet(config.request_body) && (method === "GET" || method === "HEAD")) {
      report(
        "request_body",
        `a request body cannot be sent with method ${method}: set method to POST, PUT, PATCH, ` +
          "DELETE or OPTIONS",
      );
    }
  },
};

/** The `http` data source. */
export const httpDataSource: DataSourcePlugin = {
  type: "http",
  schema,
  outputs: {
    url: "The URL the data was requested from.",
    body: "The raw body of the HTTP response.",
    request_headers:
      'The response headers (Packer\'s name for them); repeated ones joined with ", ".',
    response_headers: "The same map as request_headers, under the name that says what it holds.",
  },
  async execute(config, ctx) {
    const url = String(config.url);
    const method = String(config.method ?? "GET");
    const body = isSet(config.request_body) ? String(config.request_body) : undefined;
    let response: Response;
    try {
      response = await fetch(url, {
        method,
        headers: (config.request_headers as Record<string, string> | undefined) ?? {},
        body,
        signal: ctx.signal,
      });
    } catch (err) {
      if (ctx.signal?.aborted) throw err;
      const why = err instanceof Error ? err.message : String(err);
      throw new Error(`HTTP request error: ${method} ${url}: ${why}`);
    }
    if (response.status < 200 || response.status >= 300) {
      await response.body?.cancel();
      throw new Error(
        `HTTP request error. Response code: ${response.status} (${method} ${url})`,
      );
    }
    const contentType = response.headers.get("content-type") ?? "";
    if (!isTextContentType(contentType)) {
      ctx.log(`Content-Type is not recognized as a text type, got ${JSON.stringify(contentType)}`);
      ctx.log(
        "If the content is binary data, kiln may not properly handle the contents of the response.",
      );
    }
    let text: string;
    try {
      text = new TextDecoder().decode(await response.arrayBuffer());
    } catch (err) {
      if (ctx.signal?.aborted) throw err;
      const why = err instanceof Error ? err.message : String(err);
      throw new Error(`HTTP request error: reading the response of ${method} ${url}: ${why}`);
    }
    const headers = headerMap(response.headers);
    return { url, body: text, request_headers: headers, response_headers: { ...headers } };
  },
};
