// The floor of the added-time measurement: a bare socket client (no JSON work, no judge, no gRPC)
// sending chat requests to the same stand-in with the same window. What it "adds" per call is the
// loopback, both kernels' wake-ups and the stand-in reading the request: none of it is ours.
import net from "node:net";

/** Per call, the round trip less the stand-in's hold; `hold` maps an answer tag to its hold. */
export async function bareAdded(
  url: string,
  n: number,
  window: number,
  holds: (tag: string) => Promise<Map<string, number>>,
): Promise<number[]> {
  const { hostname, port, pathname } = new URL(`${url}/chat/completions`);
  const took = new Map<string, number>();
  let next = 0;
  const one = async () => {
    const sock = net.connect(Number(port), hostname);
    sock.setNoDelay(true);
    await new Promise((r) => sock.once("connect", r));
    let buf = Buffer.alloc(0);
    let answered: () => void = () => {};
    sock.on("data", (d: Buffer) => {
      buf = Buffer.concat([buf, d]);
      const end = buf.indexOf("\r\n\r\n");
      const len = /content-length: (\d+)/i.exec(buf.toString("latin1", 0, Math.max(0, end)));
      if (end >= 0 && len && buf.length >= end + 4 + Number(len[1])) {
        buf = Buffer.alloc(0);
        answered();
      }
    });
    while (next < n) {
      const tag = `bare${next++}`;
      const body = JSON.stringify({
        model: "m",
        messages: [{ role: "user", content: `<model_answer>${tag}</model_answer>` }],
        logprobs: true,
        top_logprobs: 5,
      });
      const t0 = performance.now();
      await new Promise<void>((r) => {
        answered = r;
        sock.write(
          `POST ${pathname} HTTP/1.1\r\nhost: ${hostname}\r\ncontent-type: application/json\r\n` +
            `content-length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
        );
      });
      took.set(tag, performance.now() - t0);
    }
    sock.end();
  };
  await Promise.all(Array.from({ length: window }, one));
  const held = await holds("bare");
  return [...took].flatMap(([tag, ms]) => {
    const h = held.get(tag);
    return h === undefined ? [] : [ms - h];
  });
}
