/**
 * A gRPC call made with node:http2 itself, for clients grpc-js will not play: one
 * that reads nothing at all (its HTTP/2 stream stays paused, so no WINDOW_UPDATE
 * goes back and the server's writes block), or one that sends bytes of its own.
 */
import http2 from "node:http2";

export interface RawCall {
  /** Send one message (protobuf bytes), framed as gRPC frames it. */
  send(message: Uint8Array): boolean;
  /** Send raw bytes, framing and all. */
  sendRaw(bytes: Uint8Array): boolean;
  end(): void;
  /** Resolves true once the stream takes writes again, false after `ms`. */
  drained(ms: number): Promise<boolean>;
  /** Start reading (the call starts paused). */
  read(): void;
  /** Resolves to grpc-status and grpc-message once the trailers arrive. */
  status: Promise<{ code: number; message: string }>;
  close(): void;
}

export function rawCall(address: string, path: string, headers: Record<string, string> = {}): RawCall {
  const session = http2.connect(`http://${address}`);
  session.on("error", () => {});
  const req = session.request({
    ":method": "POST",
    ":path": path,
    "content-type": "application/grpc",
    te: "trailers",
    ...headers,
  });
  req.on("error", () => {});
  req.pause();
  const status = new Promise<{ code: number; message: string }>((resolve) => {
    const fromHeaders = (h: http2.IncomingHttpHeaders) => {
      if (h["grpc-status"] !== undefined) {
        resolve({
          code: Number(h["grpc-status"]),
          message: decodeURIComponent(String(h["grpc-message"] ?? "")),
        });
      }
    };
    req.on("response", fromHeaders); // trailers-only replies
    req.on("trailers", fromHeaders);
    req.on("close", () => resolve({ code: -1, message: `stream closed, rst ${req.rstCode}` }));
  });
  return {
    send: (message) => {
      const frame = Buffer.alloc(5 + message.length);
      frame.writeUInt32BE(message.length, 1);
      frame.set(message, 5);
      return req.write(frame);
    },
    sendRaw: (bytes) => req.write(bytes),
    end: () => req.end(),
    drained: (ms) =>
      new Promise((resolve) => {
        const timer = setTimeout(() => {
          req.off("drain", done);
          resolve(false);
        }, ms);
        const done = () => {
          clearTimeout(timer);
          resolve(true);
        };
        req.once("drain", done);
      }),
    read: () => {
      req.on("data", () => {});
      req.resume();
    },
    status,
    close: () => session.destroy(),
  };
}
