// The reading half of our HTTP/1.1 client (http1.ts): pure, fed the socket's chunks as they come.

/** A reply, read whole. Header names are lower case; repeated headers are joined with ", ". */
export interface RawReply {
  status: number;
  statusText: string;
  headers: Record<string, string>;
  body: Buffer;
}

const MAX_HEAD_BYTES = 64 << 10;
const MAX_BODY_BYTES = 32 << 20;
const CRLF2 = Buffer.from("\r\n\r\n");

/** Reads one HTTP/1.x reply from the chunks as they come. */
export class ReplyParser {
  status = 0;
  statusText = "";
  keepAlive = true;
  private headers: Record<string, string> = {};
  private pending: Buffer | undefined;
  private state: "head" | "length" | "chunked" | "close" | "done" = "head";
  private left = 0;
  private readonly body: Buffer[] = [];
  private bodyBytes = 0;
  /** Inside a chunked body: at a size line, in a chunk's data, at the CRLF after it, or in the trailers. */
  private chunkState: "size" | "data" | "crlf" | "trailer" = "size";

  constructor(private readonly headOnly: boolean) {}

  /** Take a chunk; true once the reply is whole. Throws on a reply that breaks HTTP/1.1. */
  feed(chunk: Buffer): boolean {
    let buf = this.pending ? Buffer.concat([this.pending, chunk]) : chunk;
    this.pending = undefined;
    while (this.state === "head") {
      const end = buf.indexOf(CRLF2);
      if (end < 0) {
        if (buf.length > MAX_HEAD_BYTES) throw new Error(`reply headers over ${MAX_HEAD_BYTES} bytes`);
        this.pending = buf;
        return false;
      }
      this.readHead(buf.toString("latin1", 0, end));
      buf = buf.subarray(end + 4);
    }
    if (this.state === "length") {
      const take = Math.min(this.left, buf.length);
      this.keep(buf.subarray(0, take));
      this.left -= take;
      if (take < buf.length) this.keepAlive = false; // more than the reply: not trusted again
      if (this.left === 0) this.state = "done";
    } else if (this.state === "chunked") {
      this.readChunks(buf);
    } else if (this.state === "close") {
      this.keep(buf);
    }
    return this.state === "done";
  }

  endsAtClose(): boolean {
    return this.state === "close";
  }

  reply(): RawReply {
    const body = this.body.length === 1 ? (this.body[0] as Buffer) : Buffer.concat(this.body);
    return { status: this.status, statusText: this.statusText, headers: this.headers, body };
  }

  private readHead(text: string): void {
    const lines = text.split("\r\n");
    const m = /^HTTP\/1\.([01]) (\d{3})(?: (.*))?$/.exec(lines[0] as string);
    if (!m) throw new Error(`not an HTTP/1.x reply: ${JSON.stringify((lines[0] as string).slice(0, 60))}`);
    const headers: Record<string, string> = {};
    for (let i = 1; i < lines.length; i++) {
      const line = lines[i] as string;
      const colon = line.indexOf(":");
      if (colon <= 0) throw new Error(`malformed reply header: ${JSON.stringify(line.slice(0, 60))}`);
      const name = line.slice(0, colon).trim().toLowerCase();
      const value = line.slice(colon + 1).trim();
      headers[name] = name in headers ? `${headers[name]}, ${value}` : value;
    }
    const status = Number(m[2]);
    // 1xx (100 Continue, 103 Early Hints) come before the real reply.
    if (status < 200) return;
    this.status = status;
    this.statusText = m[3] ?? "";
    this.headers = headers;
    const connection = (headers.connection ?? "").toLowerCase();
    this.keepAlive = m[1] === "1" ? !connection.includes("close") : connection.includes("keep-alive");
    const te = (headers["transfer-encoding"] ?? "").toLowerCase();
    if (this.headOnly || status === 204 || status === 304) {
      this.state = "done";
    } else if (te.includes("chunked")) {
      this.state = "chunked";
    } else if (headers["content-length"] !== undefined) {
      if (!/^\d+$/.test(headers["content-length"])) {
        throw new Error(`bad content-length ${JSON.stringify(headers["content-length"])}`);
      }
      this.left = Number(headers["content-length"]);
      if (this.left > MAX_BODY_BYTES) throw new Error(`reply body over ${MAX_BODY_BYTES} bytes`);
      this.state = this.left === 0 ? "done" : "length";
    } else {
      this.state = "close";
      this.keepAlive = false;
    }
  }

  private readChunks(input: Buffer): void {
    let buf = input;
    while (buf.length > 0 && this.state === "chunked") {
      if (this.chunkState === "data") {
        const take = Math.min(this.left, buf.length);
        this.keep(buf.subarray(0, take));
        this.left -= take;
        buf = buf.subarray(take);
        if (this.left === 0) this.chunkState = "crlf";
        continue;
      }
      const eol = buf.indexOf("\r\n");
      if (eol < 0) {
        if (buf.length > MAX_HEAD_BYTES) throw new Error("chunk line too long");
        this.pending = buf;
        return;
      }
      const line = buf.toString("latin1", 0, eol);
      buf = buf.subarray(eol + 2);
      if (this.chunkState === "crlf") {
        if (line !== "") throw new Error("chunk data longer than its size");
        this.chunkState = "size";
      } else if (this.chunkState === "size") {
        const size = /^([0-9a-fA-F]+)\s*(;.*)?$/.exec(line);
        if (!size) throw new Error(`bad chunk size line ${JSON.stringify(line.slice(0, 40))}`);
        this.left = Number.parseInt(size[1] as string, 16);
        this.chunkState = this.left === 0 ? "trailer" : "data";
      } else if (line === "") {
        // The blank line after the (usually absent) trailers ends the body.
        this.state = "done";
      }
    }
    if (this.state === "done" && buf.length > 0) this.keepAlive = false;
  }

  private keep(part: Buffer): void {
    if (part.length === 0) return;
    this.bodyBytes += part.length;
    if (this.bodyBytes > MAX_BODY_BYTES) throw new Error(`reply body over ${MAX_BODY_BYTES} bytes`);
    this.body.push(part);
  }
}
