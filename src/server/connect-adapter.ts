import type http from "node:http";
import { type DescMessage, fromBinary } from "@bufbuild/protobuf";
import {
  Code,
  ConnectError,
  type ConnectRouter,
  type ConnectRouterOptions,
  createConnectRouter,
  createContextValues,
} from "@connectrpc/connect";
import type { UniversalHandler } from "@connectrpc/connect/protocol";
import { codeToHttpStatus, errorToJsonBytes } from "@connectrpc/connect/protocol-connect";
import {
  compressionBrotli,
  compressionGzip,
  universalRequestFromNodeRequest,
  universalResponseToNodeResponse,
} from "@connectrpc/connect-node";
import { jsonProblems, type Problem, problemsKey } from "./json-check.js";

export interface AdapterOptions extends ConnectRouterOptions {
  routes: (router: ConnectRouter) => void;
  fallback: (req: http.IncomingMessage, res: http.ServerResponse) => void;
  readMaxBytes: number;
}

const COMPRESSION = [compressionGzip, compressionBrotli];

/**
 * connect-node's `connectNodeAdapter`, plus a look at Connect unary bodies before
 * connect parses them, for three things connect does otherwise:
 * - a JSON enum value that is not a known name (`"mode": "MODE_BOGUS"`) is dropped
 *   silently; here it is dropped and reported, so the item gets an error naming it;
 * - binary that does not decode is `internal` (as in grpc-go); here it is the
 *   client's fault, `invalid_argument` (Connect binary, and gRPC-Web or gRPC envelopes);
 * - a request without a Host header throws out of the handler and kills the
 *   process; here it is answered 400.
 */
export function connectAdapter(options: AdapterOptions): http.RequestListener {
  const router = createConnectRouter({ ...options, acceptCompression: COMPRESSION });
  options.routes(router);
  const paths = new Map<string, UniversalHandler>();
  for (const h of router.handlers) paths.set(h.requestPath, h);
  return (req, res) => {
    const handler = paths.get((req.url ?? "").split("?", 1)[0] ?? "");
    if (!handler) return options.fallback(req, res);
    serve(handler, req, res, options.readMaxBytes).catch((err: unknown) => {
      if (ConnectError.from(err).code === Code.Aborted) return;
      console.error(`handler for rpc ${handler.method.name} failed`, err);
      if (!res.headersSent) sendError(res, ConnectError.from(err));
      else res.destroy();
    });
  };
}

async function serve(
  handler: UniversalHandler,
  req: http.IncomingMessage,
  res: http.ServerResponse,
  readMaxBytes: number,
): Promise<void> {
  if (!req.headers.host) {
    return sendError(res, new ConnectError("a Host header is required", Code.InvalidArgument));
  }
  const type = (req.headers["content-type"] ?? "").split(";", 1)[0]?.trim().toLowerCase() ?? "";
  if (ENVELOPED.test(type) && req.method === "POST" && handler.method.methodKind === "unary") {
    return serveEnveloped(handler, req, res, type, readMaxBytes);
  }
  const unary = req.method === "POST" && (type === "application/json" || type === "application/proto");
  if (!unary || handler.method.methodKind !== "unary") {
    const uReq = universalRequestFromNodeRequest(req, res, undefined, undefined);
    return universalResponseToNodeResponse(await handler(uReq), res);
  }
  let bytes: Uint8Array;
  try {
    bytes = await readBody(req, readMaxBytes);
  } catch (err) {
    return sendError(res, ConnectError.from(err, Code.InvalidArgument));
  }
  const input = handler.method.input;
  let json: unknown;
  let problems: Problem[] = [];
  if (type === "application/proto") {
    const bad = binaryProblem(input, bytes);
    if (bad) return sendError(res, new ConnectError(bad, Code.InvalidArgument));
  } else {
    try {
      json = JSON.parse(new TextDecoder().decode(bytes));
      problems = jsonProblems(input, json);
    } catch {
      json = undefined; // not JSON: connect reports it in its own words
    }
  }
  const values = createContextValues().set(problemsKey, problems);
  const uReq = universalRequestFromNodeRequest(req, res, json as never, values);
  const header = new Headers(uReq.header);
  header.delete("content-encoding"); // the body handed on is decompressed
  header.delete("content-length");
  const body = json === undefined ? once(bytes) : uReq.body;
  const uRes = await handler({ ...uReq, header, body });
  await universalResponseToNodeResponse(uRes, res);
}

/** gRPC-Web and gRPC (over HTTP/1.1) bodies: length-prefixed messages. */
const ENVELOPED = /^application\/grpc(?:-web)?(?:\+proto)?$/;

/**
 * A unary gRPC-Web (or gRPC) call: connect reports a message that does not decode as `internal`;
 * here it is the client's fault, INVALID_ARGUMENT, answered trailers-only (the status in the headers).
 */
async function serveEnveloped(
  handler: UniversalHandler,
  req: http.IncomingMessage,
  res: http.ServerResponse,
  type: string,
  readMaxBytes: number,
): Promise<void> {
  let bytes: Uint8Array;
  let bad: string | undefined;
  try {
    bytes = await readRaw(req, readMaxBytes);
    bad = await envelopeProblem(
      handler.method.input,
      bytes,
      String(req.headers["grpc-encoding"] ?? "identity"),
      readMaxBytes,
    );
  } catch (err) {
    return sendTrailersOnly(res, type, ConnectError.from(err, Code.InvalidArgument));
  }
  if (bad) return sendTrailersOnly(res, type, new ConnectError(bad, Code.InvalidArgument));
  const uReq = universalRequestFromNodeRequest(req, res, undefined, undefined);
  await universalResponseToNodeResponse(await handler({ ...uReq, body: once(bytes) }), res);
}

/** Why the enveloped messages in `bytes` do not decode (undefined when they do). */
async function envelopeProblem(
  desc: DescMessage,
  bytes: Uint8Array,
  encoding: string,
  maxBytes: number,
): Promise<string | undefined> {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  for (let at = 0; at < bytes.length; ) {
    if (at + 5 > bytes.length) return "a message envelope is cut short";
    const flags = bytes[at] as number;
    const length = view.getUint32(at + 1);
    if (at + 5 + length > bytes.length)
      return `a message envelope promises ${length} bytes that are not there`;
    let message = bytes.subarray(at + 5, at + 5 + length);
    at += 5 + length;
    // A request carries messages only: 0 or 1 (compressed). 0x80 marks trailers, which only a
    // server sends; connect would still read the compressed bit of such a frame and fail internally.
    if (flags & ~1) return `a request envelope has flags 0x${flags.toString(16)} (only 0 and 1 are messages)`;
    if (flags & 1) {
      if (encoding === "identity") return "a message is flagged compressed but no grpc-encoding says how";
      const codec = COMPRESSION.find((c) => c.name === encoding);
      if (!codec) continue; // connect answers an unknown encoding itself (unimplemented)
      message = await decompress(codec, message, maxBytes);
    }
    const bad = binaryProblem(desc, message);
    if (bad) return bad;
  }
  return undefined;
}

function sendTrailersOnly(res: http.ServerResponse, type: string, err: ConnectError): void {
  res.writeHead(200, {
    "content-type": type,
    "grpc-status": String(err.code),
    "grpc-message": encodeURIComponent(err.rawMessage),
  });
  res.end();
}

/** The request body as sent, bounded. */
async function readRaw(req: http.IncomingMessage, maxBytes: number): Promise<Uint8Array> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > maxBytes) {
      throw new ConnectError(`message over ${maxBytes} bytes (--max-message-bytes)`, Code.ResourceExhausted);
    }
    chunks.push(chunk as Buffer);
  }
  return new Uint8Array(Buffer.concat(chunks));
}

/** The request body, decompressed as its content-encoding says, bounded before and after. */
async function readBody(req: http.IncomingMessage, maxBytes: number): Promise<Uint8Array> {
  const raw = await readRaw(req, maxBytes);
  const encoding = (req.headers["content-encoding"] ?? "identity").toLowerCase();
  if (encoding === "identity") return raw;
  const codec = COMPRESSION.find((c) => c.name === encoding);
  if (!codec) throw new ConnectError(`content-encoding ${encoding} is not supported`, Code.Unimplemented);
  return decompress(codec, raw, maxBytes);
}

/** connect-node calls a body cut short (zlib's Z_BUF_ERROR) `internal`; it is the client's fault too. */
async function decompress(codec: (typeof COMPRESSION)[number], bytes: Uint8Array, maxBytes: number) {
  try {
    return await codec.decompress(bytes, maxBytes);
  } catch (err) {
    const e = ConnectError.from(err);
    if (e.code !== Code.Internal) throw e;
    throw new ConnectError(
      `the body does not decompress (${codec.name}): ${e.rawMessage}`,
      Code.InvalidArgument,
    );
  }
}

function binaryProblem(desc: DescMessage, bytes: Uint8Array): string | undefined {
  try {
    fromBinary(desc, bytes);
    return undefined;
  } catch (err) {
    return `cannot decode ${desc.typeName} from binary: ${(err as Error).message}`;
  }
}

function sendError(res: http.ServerResponse, err: ConnectError): void {
  const body = errorToJsonBytes(err, {});
  res.writeHead(codeToHttpStatus(err.code), {
    "content-type": "application/json",
    "content-length": body.byteLength,
  });
  res.end(body);
}

async function* once(bytes: Uint8Array): AsyncIterable<Uint8Array> {
  yield bytes;
}
