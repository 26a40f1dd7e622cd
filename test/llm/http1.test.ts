import { once } from "node:events";
import { readFileSync } from "node:fs";
import http from "node:http";
import https from "node:https";
import net, { type AddressInfo } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { Http1Client, HttpTimeout } from "../../src/llm/http1.js";
import { selfSignedCert } from "../support/tls.js";

const closers: (() => void)[] = [];
afterEach(() => {
  for (const c of closers.splice(0)) c();
});

/** A TCP server that answers each request with the bytes `reply` gives, written in the pieces given. */
async function rawServer(reply: (n: number, request: string) => (string | Buffer)[] | "close") {
  let n = 0;
  const sockets = new Set<net.Socket>();
  const server = net.createServer((s) => {
    sockets.add(s);
    let buf = "";
    s.on("data", async (d) => {
      buf += d.toString("latin1");
      const end = buf.indexOf("\r\n\r\n");
      if (end < 0) return;
      const len = Number(/content-length: (\d+)/i.exec(buf.slice(0, end))?.[1] ?? 0);
      if (buf.length < end + 4 + len) return;
      const request = buf.slice(0, end + 4 + len);
      buf = buf.slice(end + 4 + len);
      const parts = reply(++n, request);
      if (parts === "close") {
        s.destroy();
        return;
      }
      for (const p of parts) {
        s.write(p);
        // Separate TCP segments, so the parser sees the reply in pieces.
        await new Promise((r) => setTimeout(r, 2));
      }
    });
    s.on("close", () => sockets.delete(s));
  });
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  closers.push(() => {
    for (const s of sockets) s.destroy();
    server.close();
  });
  return {
    origin: new URL(`http://127.0.0.1:${(server.address() as AddressInfo).port}`),
    sockets,
    get requests() {
      return n;
    },
  };
}

function client(origin: URL, maxSockets = 4): Http1Client {
  const c = new Http1Client(origin, maxSockets);
  closers.push(() => c.close());
  return c;
}

const post = (c: Http1Client, body = '{"q":1}', extra: Partial<Parameters<Http1Client["request"]>[0]> = {}) =>
  c.request({
    method: "POST",
    path: "/v1/chat/completions",
    headers: { "content-type": "application/json" },
    body,
    ...extra,
  });

describe("Http1Client", () => {
  it("sends the request line, host, headers and body, and reads a Content-Length reply", async () => {
    let seen = "";
    const s = await rawServer((_, req) => {
      seen = req;
      return [
        "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 11\r\n\r\n",
        '{"ok":true}',
      ];
    });
    const r = await post(client(s.origin), '{"x":"é"}');
    expect(r.status).toBe(200);
    expect(r.statusText).toBe("OK");
    expect(r.headers["content-type"]).toBe("application/json");
    expect(r.body.toString()).toBe('{"ok":true}');
    expect(seen).toMatch(/^POST \/v1\/chat\/completions HTTP\/1\.1\r\nhost: 127\.0\.0\.1:\d+\r\n/);
    // Bytes, not characters: é is two.
    expect(Buffer.from(seen, "latin1").toString("utf8")).toMatch(/content-length: 10\r\n\r\n\{"x":"é"\}$/);
  });

  it("reads a chunked reply split across segments, skipping a 100 Continue and trailers", async () => {
    const s = await rawServer(() => [
      "HTTP/1.1 100 Continue\r\n\r\n",
      "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhel",
      "lo\r\n6;ext=1\r\n world\r",
      "\n0\r\nX-Trailer: 1\r\n\r\n",
    ]);
    const c = client(s.origin);
    expect((await post(c)).body.toString()).toBe("hello world");
    // The socket is kept and serves the next call.
    expect((await post(c)).body.toString()).toBe("hello world");
    expect(s.sockets.size).toBe(1);
  });

  it("reads a body that ends at close, and does not reuse that socket", async () => {
    const s = await rawServer(() => ["HTTP/1.1 200 OK\r\nConnection: close\r\n\r\nall of it"]);
    const pending = post(client(s.origin));
    // The server ends the body by closing.
    setTimeout(() => {
      for (const x of s.sockets) x.end();
    }, 30);
    expect((await pending).body.toString()).toBe("all of it");
  });

  it("a body that ends at close but is cut by a reset is an error, not a short body", async () => {
    const s = await rawServer(() => ["HTTP/1.1 200 OK\r\nConnection: close\r\n\r\npart of"]);
    const pending = post(client(s.origin));
    setTimeout(() => {
      for (const x of s.sockets) x.resetAndDestroy();
    }, 30);
    await expect(pending).rejects.toThrow(/ECONNRESET/);
  });

  it("keeps one socket across calls, joins repeated headers, and honours Connection: close", async () => {
    const s = await rawServer((n) => [
      `HTTP/1.1 200 OK\r\nX-A: 1\r\nX-A: 2\r\n${n === 2 ? "Connection: close\r\n" : ""}Content-Length: 1\r\n\r\n${n}`,
    ]);
    const c = client(s.origin);
    const first = await post(c);
    expect(first.headers["x-a"]).toBe("1, 2");
    await post(c);
    await post(c);
    expect(s.requests).toBe(3);
    await new Promise((r) => setTimeout(r, 20));
    // The second reply said close: the third went out on a new socket, which is the one left.
    expect(s.sockets.size).toBe(1);
  });

  it("a reused socket the server closed before answering is sent again once, on a new socket", async () => {
    const s = await rawServer((n) =>
      n === 2 ? "close" : ["HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"],
    );
    const c = client(s.origin);
    await post(c);
    expect((await post(c)).body.toString()).toBe("ok");
    expect(s.requests).toBe(3);
  });

  it("a new socket closed before any reply is an error, not a retry", async () => {
    const s = await rawServer(() => "close");
    await expect(post(client(s.origin))).rejects.toThrow(/closed before any reply|ECONNRESET/);
    expect(s.requests).toBe(1);
  });

  it("a reply cut off mid-body is an error, never a short body", async () => {
    const s = await rawServer(() => ['HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n{"cho']);
    const c = client(s.origin);
    const pending = post(c);
    setTimeout(() => {
      for (const x of s.sockets) x.destroy();
    }, 30);
    await expect(pending).rejects.toThrow(/closed before the reply was complete|ECONNRESET/);
  });

  it.each([
    ["garbage", ["SSH-2.0-OpenSSH\r\n\r\n"], /not an HTTP\/1\.x reply/],
    ["a bad header line", ["HTTP/1.1 200 OK\r\nno colon here\r\n\r\n"], /malformed reply header/],
    ["a bad content-length", ["HTTP/1.1 200 OK\r\nContent-Length: 12abc\r\n\r\n"], /bad content-length/],
    ["a bad chunk size", ["HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n"], /bad chunk size/],
    ["a body over the limit", ["HTTP/1.1 200 OK\r\nContent-Length: 99999999999\r\n\r\n"], /over \d+ bytes/],
  ])("a reply with %s is a clear error", async (_, parts, message) => {
    const s = await rawServer(() => parts);
    await expect(post(client(s.origin))).rejects.toThrow(message);
  });

  it("times out a call the server never answers, and aborts on the caller's signal", async () => {
    const s = await rawServer(() => []);
    const c = client(s.origin);
    const t0 = performance.now();
    const err = await post(c, "{}", { timeoutMs: 80 }).catch((e) => e);
    expect(err).toBeInstanceOf(HttpTimeout);
    expect(performance.now() - t0).toBeLessThan(1_000);
    const ac = new AbortController();
    const pending = post(c, "{}", { signal: ac.signal });
    setTimeout(() => ac.abort(new Error("stop")), 20);
    await expect(pending).rejects.toThrow("stop");
  });

  it("queues callers beyond maxSockets and serves them in turn", async () => {
    const server = http.createServer((req, res) => setTimeout(() => res.end(req.url), 20));
    server.listen(0, "127.0.0.1");
    await once(server, "listening");
    closers.push(() => server.close());
    let sockets = 0;
    server.on("connection", () => sockets++);
    const c = client(new URL(`http://127.0.0.1:${(server.address() as AddressInfo).port}`), 2);
    const replies = await Promise.all(
      Array.from({ length: 7 }, (_, i) => c.request({ method: "GET", path: `/${i}`, headers: {} })),
    );
    expect(replies.map((r) => r.body.toString())).toEqual(["/0", "/1", "/2", "/3", "/4", "/5", "/6"]);
    expect(sockets).toBe(2);
  });

  it("refuses a header with a line break (no header smuggling) and a URL that is not http(s)", async () => {
    const s = await rawServer(() => ["HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"]);
    await expect(
      client(s.origin).request({
        method: "GET",
        path: "/",
        headers: { authorization: "Bearer x\r\nX-Evil: 1" },
      }),
    ).rejects.toThrow(/line break/);
    expect(s.requests).toBe(0);
    expect(() => new Http1Client(new URL("ftp://example.com"), 1)).toThrow(/http: or https:/);
  });

  it("speaks HTTPS, checking the certificate against the CA it is given", async () => {
    const { key, cert } = selfSignedCert();
    const server = https.createServer({ key: readFileSync(key), cert: readFileSync(cert) }, (_, res) =>
      res.end("secure"),
    );
    server.listen(0, "127.0.0.1");
    await once(server, "listening");
    closers.push(() => server.close());
    const origin = new URL(`https://localhost:${(server.address() as AddressInfo).port}`);
    // Self-signed and not trusted: refused.
    await expect(client(origin).request({ method: "GET", path: "/", headers: {} })).rejects.toThrow(
      /self[- ]signed|unable to verify/i,
    );
    const trusting = new Http1Client(origin, 1, { ca: readFileSync(cert) });
    closers.push(() => trusting.close());
    expect((await trusting.request({ method: "GET", path: "/", headers: {} })).body.toString()).toBe(
      "secure",
    );
  });
});
