import http from "node:http";
import https from "node:https";

/**
 * A `fetch` for the OpenAI SDK over node:http with a keep-alive agent per
 * backend. On the 2-core dev machine, the SDK on Node's built-in fetch (undici
 * and web streams) spent ~950 us of CPU per call, on this fetch ~450 us; at
 * 1,000+ verifier calls a second that CPU is what the rule workers and the
 * gRPC transport need. Bodies are small JSON, read whole.
 */
export function keepAliveFetch(maxSockets: number): { fetch: typeof fetch; close: () => void } {
  const agents = {
    "http:": new http.Agent({ keepAlive: true, maxSockets, maxFreeSockets: maxSockets, scheduling: "lifo" }),
    "https:": new https.Agent({
      keepAlive: true,
      maxSockets,
      maxFreeSockets: maxSockets,
      scheduling: "lifo",
    }),
  };
  const doFetch = (input: string | URL | Request, init: RequestInit = {}): Promise<Response> => {
    const url = new URL(input instanceof Request ? input.url : String(input));
    const mod = url.protocol === "https:" ? https : http;
    const agent = url.protocol === "https:" ? agents["https:"] : agents["http:"];
    const headers: Record<string, string> = {};
    // The SDK hands over a Headers already; wrapping it in another costs a copy per call.
    const given = init.headers instanceof Headers ? init.headers : new Headers(init.headers);
    given.forEach((v, k) => {
      headers[k] = v;
    });
    const body = init.body;
    if (body !== undefined && body !== null && typeof body !== "string") {
      return Promise.reject(new TypeError("keepAliveFetch sends string bodies only"));
    }
    if (typeof body === "string") headers["content-length"] = String(Buffer.byteLength(body));
    const signal = init.signal;
    return new Promise<Response>((resolve, reject) => {
      if (signal?.aborted) {
        reject(abortError(signal));
        return;
      }
      let req: http.ClientRequest;
      const send = (again: boolean) => {
        let answered = false;
        req = mod.request(url, { method: init.method ?? "GET", headers, agent }, (res) => {
          answered = true;
          const chunks: Buffer[] = [];
          res.on("data", (c: Buffer) => chunks.push(c));
          res.on("end", () => {
            signal?.removeEventListener("abort", onAbort);
            const status = res.statusCode ?? 502;
            const out = new Headers();
            for (const [k, v] of Object.entries(res.headers)) {
              if (v !== undefined) out.set(k, Array.isArray(v) ? v.join(", ") : v);
            }
            const payload = status === 204 || status === 304 ? null : Buffer.concat(chunks);
            resolve(new Response(payload, { status, statusText: res.statusMessage ?? "", headers: out }));
          });
          // A reply cut off mid-body: the SDK must see an error, not a truncated JSON document.
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
          if (stale && !again && !signal?.aborted) send(true);
          else fail(err);
        });
        sent.end(body ?? undefined);
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
      send(false);
    });
  };
  return {
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
