import type { Http1Client } from "./http1.js";

/**
 * A `fetch` over the backend's own HTTP client, for the OpenAI SDK's rare calls
 * (the model listing): it shares the backend's keep-alive sockets. String
 * bodies only; the SDK sends nothing else on the calls we make through it.
 */
export function sdkFetch(client: Http1Client): typeof fetch {
  const doFetch = async (input: string | URL | Request, init: RequestInit = {}): Promise<Response> => {
    const url = new URL(input instanceof Request ? input.url : String(input));
    if (url.origin !== client.origin.origin) return fetch(input, init);
    if (init.body !== undefined && init.body !== null && typeof init.body !== "string") {
      throw new TypeError("the backend's fetch sends string bodies only");
    }
    const headers: Record<string, string> = {};
    new Headers(init.headers).forEach((v, k) => {
      headers[k] = v;
    });
    const reply = await client.request({
      method: init.method ?? "GET",
      path: url.pathname + url.search,
      headers,
      body: init.body ?? undefined,
      signal: init.signal ?? undefined,
    });
    const out = new Headers();
    for (const [k, v] of Object.entries(reply.headers)) out.set(k, v);
    const payload = reply.status === 204 || reply.status === 304 ? null : reply.body;
    return new Response(payload, { status: reply.status, statusText: reply.statusText, headers: out });
  };
  return doFetch as typeof fetch;
}
