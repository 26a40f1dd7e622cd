import net from "node:net";
import tls from "node:tls";
import { type RawReply, ReplyParser } from "./http1-reply.js";

export type { RawReply } from "./http1-reply.js";

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

function abortError(signal: AbortSignal): Error {
  return signal.reason instanceof Error
    ? signal.reason
    : new DOMException("The operation was aborted", "AbortError");
}
