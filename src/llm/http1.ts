import net from "node:net";
import tls from "node:tls";

/** A reply, read whole. Header names are lower case; repeated headers are joined with ", ". */
export interface RawReply {
  status: number;
  statusText: string;
  headers: Record<string, string>;
  body: Buffer;
}

export interface RawRequest {
  method: string;
  /** Path and query, e.g. "/v1/chat/completions". */
  path: string;
  headers: Record<string, string>;
  body?: string;
  signal?: AbortSignal;
  /** Whole-call bound, from asking for a socket to the last byte of the reply. */
  timeoutMs?: number;
}

/** The call's timeoutMs passed without a whole reply. */
export class HttpTimeout extends Error {
  constructor(readonly ms: number) {
    super(`no reply within ${ms} ms`);
  }
}

const MAX_HEAD_BYTES = 64 << 10;
const MAX_BODY_BYTES = 32 << 20;
const CRLF2 = Buffer.from("\r\n\r\n");

/**
 * A lean HTTP/1.1 client for one origin (an LLM backend): keep-alive sockets,
 * one request at a time on each, the most recently used idle socket first,
 * callers beyond `maxSockets` queued in order.
 *
 * Why not node:http: its agent, ClientRequest and IncomingMessage streams cost
 * about three times the CPU of a bare socket per call, and at 1,000+ calls/s
 * that CPU is taken from the gRPC transport on the same event loop. A verifier
 * call is a small JSON POST answered by a small JSON reply, so this reads
 * Content-Length and chunked bodies, and bodies that end at close.
 */
export class Http1Client {
  private readonly idle: Conn[] = [];
  private readonly queue: ((c: Conn | Error) => void)[] = [];
  private open = 0;
  private closed = false;
  private readonly hostHeader: string;

  /** `tlsOptions`: for https, e.g. a `ca` to trust (NODE_EXTRA_CA_CERTS works too). */
  constructor(
    readonly origin: URL,
    private readonly maxSockets: number,
    private readonly tlsOptions: tls.ConnectionOptions = {},
  ) {
    if (origin.protocol !== "http:" && origin.protocol !== "https:") {
      throw new Error(`unsupported protocol ${origin.protocol} in ${origin.href} (http: or https: only)`);
    }
    this.hostHeader = origin.host;
  }

  /** One request and its whole reply. A reused socket the server had just closed is retried once on a new one. */
  request(req: RawRequest): Promise<RawReply> {
    const { signal, timeoutMs } = req;
    if (signal?.aborted) return Promise.reject(abortError(signal));
    if (this.closed) return Promise.reject(new Error("HTTP client closed"));
    let head: string;
    try {
      head = this.head(req);
    } catch (err) {
      return Promise.reject(err);
    }
    return new Promise<RawReply>((resolve, reject) => {
      let conn: Conn | undefined;
      let settled = false;
      const finish = (err: Error | undefined, reply?: RawReply) => {
        if (settled) return;
        settled = true;
        if (timer) clearTimeout(timer);
        signal?.removeEventListener("abort", onAbort);
        if (err) reject(err);
        else resolve(reply as RawReply);
      };
      const onConn = (c: Conn | Error) => {
        if (c instanceof Error) finish(c);
        else if (settled) this.release(c);
        else send(c, false);
      };
      const cancel = (err: Error) => {
        // The socket is mid-request: it cannot be reused.
        conn?.destroy();
        this.dropWaiter(onConn);
        finish(err);
      };
      const onAbort = () => cancel(abortError(signal as AbortSignal));
      const timer = timeoutMs ? setTimeout(() => cancel(new HttpTimeout(timeoutMs)), timeoutMs) : undefined;
      signal?.addEventListener("abort", onAbort, { once: true });

      const send = (c: Conn, again: boolean) => {
        conn = c;
        c.send(head, req.method === "HEAD", (err, reply) => {
          if (settled) return;
          if (err) {
            // The server closed a kept-alive socket as we reused it (uvicorn drops idle ones after 5 s):
            // nothing was answered, and a verifier call is safe to repeat.
            if (c.reused && !c.answered && !again && isStale(err)) {
              this.connect().then((fresh) => (settled ? this.release(fresh) : send(fresh, true)), finish);
              return;
            }
            finish(err);
            return;
          }
          this.release(c);
          finish(undefined, reply);
        });
      };
      this.acquire(onConn);
    });
  }

  /** Destroy every socket; queued callers fail. */
  close(): void {
    this.closed = true;
    for (const c of this.idle.splice(0)) c.destroy();
    for (const w of this.queue.splice(0)) w(new Error("HTTP client closed"));
  }

  private head(req: RawRequest): string {
    let head = `${req.method} ${req.path} HTTP/1.1\r\nhost: ${this.hostHeader}\r\n`;
    for (const [k, v] of Object.entries(req.headers)) {
      // A header value with a line break would smuggle a header (or a request) in.
      if (/[\r\n]/.test(k) || /[\r\n]/.test(v)) throw new Error(`header ${k} holds a line break`);
      head += `${k}: ${v}\r\n`;
    }
    if (req.body !== undefined) head += `content-length: ${Buffer.byteLength(req.body)}\r\n`;
    return `${head}\r\n${req.body ?? ""}`;
  }

  private acquire(cb: (c: Conn | Error) => void): void {
    const c = this.idle.pop();
    if (c) {
      c.socket.ref();
      cb(c);
    } else if (this.open < this.maxSockets) {
      this.connect().then(cb, cb);
    } else {
      this.queue.push(cb);
    }
  }

  private dropWaiter(cb: (c: Conn | Error) => void): void {
    const i = this.queue.indexOf(cb);
    if (i >= 0) this.queue.splice(i, 1);
  }

  private connect(): Promise<Conn> {
    this.open++;
    const { hostname, port, protocol } = this.origin;
    const host = hostname.replace(/^\[|\]$/g, "");
    const secure = protocol === "https:";
    const socket = secure
      ? tls.connect({
          ...this.tlsOptions,
          host,
          port: Number(port || 443),
          servername: net.isIP(host) ? undefined : host,
          ALPNProtocols: ["http/1.1"],
        })
      : net.connect({ host, port: Number(port || 80) });
    socket.setNoDelay(true);
    const conn = new Conn(socket, () => {
      this.open--;
      const i = this.idle.indexOf(conn);
      if (i >= 0) this.idle.splice(i, 1);
      // A socket slot freed: a queued caller may connect now.
      const next = this.queue.shift();
      if (next) this.acquire(next);
    });
    return new Promise((resolve, reject) => {
      const ready = secure ? "secureConnect" : "connect";
      const onError = (err: Error) => reject(err);
      socket.once("error", onError);
      socket.once(ready, () => {
        socket.off("error", onError);
        resolve(conn);
      });
    });
  }

  private release(c: Conn): void {
    if (!c.reusable || this.closed) {
      c.destroy();
      return;
    }
    const next = this.queue.shift();
    if (next) {
      next(c);
      return;
    }
    // An idle socket must not keep the process alive.
    c.socket.unref();
    this.idle.push(c);
  }
}

type Done = (err: Error | undefined, reply?: RawReply) => void;

/** One socket and the reply being read on it. */
class Conn {
  /** Has carried a whole request and reply before. */
  reused = false;
  /** Some of the current reply has arrived. */
  answered = false;
  reusable = true;
  private parser: ReplyParser | undefined;
  private done: Done | undefined;
  private gone = false;

  constructor(
    readonly socket: net.Socket,
    onGone: () => void,
  ) {
    let lastError: Error | undefined;
    socket.on("data", (chunk: Buffer) => this.onData(chunk));
    socket.on("error", (err) => {
      lastError = err;
    });
    socket.on("close", () => {
      this.gone = true;
      this.reusable = false;
      onGone();
      const parser = this.parser;
      // A body that ends at close is whole only if the close was clean.
      if (parser?.endsAtClose() && !lastError) this.complete(undefined, parser.reply());
      else if (this.done) {
        this.complete(lastError ?? socketClosed(this.answered));
      }
    });
  }

  send(head: string, headOnly: boolean, done: Done): void {
    if (this.gone) {
      done(socketClosed(false));
      return;
    }
    this.parser = new ReplyParser(headOnly);
    this.done = done;
    this.answered = false;
    this.socket.write(head);
  }

  destroy(): void {
    this.reusable = false;
    this.done = undefined;
    this.parser = undefined;
    this.socket.destroy();
  }

  private onData(chunk: Buffer): void {
    const parser = this.parser;
    if (!parser) {
      // Bytes nobody asked for: the stream is out of step, so the socket is not trusted again.
      this.destroy();
      return;
    }
    this.answered = true;
    try {
      if (!parser.feed(chunk)) return;
    } catch (err) {
      this.reusable = false;
      this.complete(err as Error);
      this.socket.destroy();
      return;
    }
    this.reused = true;
    if (!parser.keepAlive) this.reusable = false;
    this.complete(undefined, parser.reply());
  }

  private complete(err: Error | undefined, reply?: RawReply): void {
    const done = this.done;
    this.done = undefined;
    this.parser = undefined;
    done?.(err, reply);
  }
}

/** Reads one HTTP/1.x reply from the chunks as they come. */
class ReplyParser {
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

function isStale(err: Error): boolean {
  const code = (err as NodeJS.ErrnoException).code;
  return code === "ECONNRESET" || code === "EPIPE" || code === "ECONNCLOSED";
}

function socketClosed(answered: boolean): Error {
  const err = new Error(
    answered ? "connection closed before the reply was complete" : "connection closed before any reply",
  ) as NodeJS.ErrnoException;
  err.code = answered ? "ECONNCUT" : "ECONNCLOSED";
  return err;
}

export function abortError(signal: AbortSignal): Error {
  return signal.reason instanceof Error
    ? signal.reason
    : new DOMException("The operation was aborted", "AbortError");
}
