import { describe, expect, it } from "vitest";
import { ReplyParser } from "../../src/llm/http1-reply.js";

/** Feed `parts` in order; the reply once whole, else undefined. */
function parse(parts: Buffer[]) {
  const p = new ReplyParser(false);
  for (const [i, part] of parts.entries()) {
    if (p.feed(part)) return { reply: p.reply(), rest: parts.length - 1 - i, keepAlive: p.keepAlive };
  }
  return undefined;
}

const chunked = Buffer.from(
  "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nContent-Type: application/json\r\n\r\n" +
    '7\r\n{"a":1,\r\n9;x=y\r\n"b":"\u00e9"}\r\n0\r\nTrailer: 1\r\n\r\n',
);
const sized = Buffer.from('HTTP/1.1 200 OK\r\ncontent-length: 16\r\n\r\n{"a":1,"b":"é"}');

describe("ReplyParser", () => {
  it.each([
    ["chunked", chunked],
    ["Content-Length", sized],
  ])("reads a %s reply the same however the bytes are split", (_, bytes) => {
    for (let i = 1; i < bytes.length; i++) {
      for (const j of [i + 1, Math.min(bytes.length - 1, i + 7), bytes.length - 1]) {
        if (j <= i || j >= bytes.length) continue;
        const got = parse([bytes.subarray(0, i), bytes.subarray(i, j), bytes.subarray(j)]);
        expect(got?.reply.status, `split at ${i}, ${j}`).toBe(200);
        expect(JSON.parse(got?.reply.body.toString("utf8") ?? "")).toEqual({ a: 1, b: "é" });
        expect(got?.rest).toBe(0);
        expect(got?.keepAlive).toBe(true);
      }
    }
  });

  it("is not whole until the last byte, and extra bytes after the reply stop the socket's reuse", () => {
    expect(parse([sized.subarray(0, sized.length - 1)])).toBeUndefined();
    expect(parse([chunked.subarray(0, chunked.length - 1)])).toBeUndefined();
    expect(parse([Buffer.concat([sized, Buffer.from("HTTP/1.1 200")])])?.keepAlive).toBe(false);
  });

  it("has no body for 204 and 304, and for HEAD", () => {
    expect(parse([Buffer.from("HTTP/1.1 204 No Content\r\n\r\n")])?.reply.body.length).toBe(0);
    const head = new ReplyParser(true);
    expect(head.feed(Buffer.from("HTTP/1.1 200 OK\r\ncontent-length: 99\r\n\r\n"))).toBe(true);
  });

  it("reads HTTP/1.0 keep-alive only when the server says so", () => {
    const reply = (conn: string) =>
      parse([Buffer.from(`HTTP/1.0 200 OK\r\n${conn}content-length: 0\r\n\r\n`)])?.keepAlive;
    expect(reply("")).toBe(false);
    expect(reply("Connection: keep-alive\r\n")).toBe(true);
  });
});
