import http from "node:http";
import https from "node:https";

/**
 * HTTP for one LLM backend over node:http with a keep-alive agent: `send` for
 * the hot chat-completions path, and a `fetch` built on it for the OpenAI
 * SDK's model listing. Node's built-in fetch (undici, web streams) cost about
 * twice the CPU per call on the 2-core dev machine. Bodies are small JSON, read whole.
 */
export interface RawRequest {
  method: string;
  headers: Record<string, string>;
  body?: string;
  signal?: AbortSignal;
}

export interface RawReply {
  status: number;
  statusText: string;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
}

export function keepAliveHttp(maxSockets: number): {
  send: (url: URL, init: RawRequest) => Promise<RawReply>;
  fetch: typeof fetch;
  close: () => void;
} {
  const agents = {
    "http:": new http.Agent({ keepAlive: true, maxSockets, maxFreeSockets: maxSockets, scheduling: "lifo" }),
    "https:": new https.Agent({
      keepAlive: true,
      maxSockets,
      maxFreeSockets: maxSockets,
      scheduling: "lifo",
    }),
  };
  /** One request, the reply read whole. A reused socket the server just closed is retried once. */
  const send = (url: URL, init: RawRequest): Promise<RawReply> => {
    const mod = url.protocol === "https:" ? https : http;
    const agent = url.protocol === "https:" ? agents["https:"] : agents["http:"];
    const { body, signal } = init;
    const headers = { ...init.headers };
    if (body !== undefined) headers["content-length"] = String(Buffer.byteLength(body));
    return new Promise<RawReply>((resolve, reject) => {
      if (signal?.aborted) {
        reject(abortError(signal));
        return;
      }
      let req: http.ClientRequest;
      const attempt = (again: boolean) => {
        let answered = false;
        req = mod.request(url, { method: init.method, headers, agent }, (res) => {
          answered = true;
          const chunks: Buffer[] = [];
          res.on("data", (c: Buffer) => chunks.push(c));
          res.on("end", () => {
            signal?.removeEventListener("abort", onAbort);
            resolve({
              status: res.statusCode ?? 502,
              statusText: res.statusMessage ?? "",
              headers: res.headers,
              body: Buffer.concat(chunks),
            });
          });
          // A reply cut off mid-body must be an error, not a truncated JSON document.
          const cut = () => fail(new Error("connection closed before the reply was complete"));
          res.on("error", cut);
          res.on("close", () => {
            if (!res.complete) cut();
          });
        });
        const sent = req;
        sent.on("error", (err: NodeJS.ErrnoException) => {
          // An idle keep-alive socket the server closed just as we reused it (uvicorn drops idle ones
          // after 5 s): send once more on a fresh socket. A verifier call is safe to repeat.
          const stale = sent.reusedSocket && !answered && (err.code === "ECONNRESET" || err.code === "EPIPE");
          if (stale && !again && !signal?.aborted) attempt(true);
          else fail(err);
        });
        sent.end(body);
      };
      function fail(err: Error) {
        signal?.removeEventListener("abort", onAbort);
        reject(err);
      }
      function onAbort() {
        req.destroy();
        reject(abortError(signal as AbortSignal));
      }
      signal?.addEventListener("abort", onAbort, { once: true });
      attempt(false);
    });
  };

  /** The same as a `fetch`, for the OpenAI SDK's less frequent calls (model listing). */
  const doFetch = async (input: string | URL | Request, init: RequestInit = {}): Promise<Response> => {
    const url = new URL(input instanceof Request ? input.url : String(input));
    const headers: Record<string, string> = {};
    const given = init.headers instanceof Headers ? init.headers : new Headers(init.headers);
    given.forEach((v, k) => {
      headers[k] = v;
    });
    if (init.body !== undefined && init.body !== null && typeof init.body !== "string") {
      throw new TypeError("keepAliveHttp sends string bodies only");
    }
    const reply = await send(url, {
      method: init.method ?? "GET",
      headers,
      body: init.body ?? undefined,
      signal: init.signal ?? undefined,
    });
    const out = new Headers();
    for (const [k, v] of Object.entries(reply.headers)) {
      if (v !== undefined) out.set(k, Array.isArray(v) ? v.join(", ") : v);
    }
    const payload = reply.status === 204 || reply.status === 304 ? null : reply.body;
    return new Response(payload, { status: reply.status, statusText: reply.statusText, headers: out });
  };
  return {
    send,
    fetch: doFetch as typeof fetch,
    close: () => {
      agents["http:"].destroy();
      agents["https:"].destroy();
    },
  };
}

function abortError(signal: AbortSignal): unknown {
  return signal.reason instanceof Error
    ? signal.reason
    : new DOMException("The operation was aborted", "AbortError");
}
