// A rule worker with the real one's interface (one item per call) that spins forever on the
// response "hang", spins N ms on "slow:N", and exits on "crash": it exercises the pool's watchdog.
export default function check({ gold, response }) {
  if (response === "hang") for (;;) {}
  if (response.startsWith("slow:")) {
    const until = Date.now() + Number(response.slice(5));
    while (Date.now() < until) {}
  }
  if (response === "crash") process.exit(3);
  return { outcome: gold === response ? "match" : "mismatch", extracted: response, ms: 0 };
}
