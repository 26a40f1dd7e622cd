// A rule worker that behaves like the real one's interface but spins forever on the
// response "hang" and throws on "crash": it exercises the pool's budget and recycling.
export default function run(task) {
  return task.items.map(({ gold, response }) => {
    if (response === "hang") for (;;) {}
    if (response === "crash") process.exit(3);
    return { outcome: gold === response ? "match" : "mismatch", extracted: response, ms: 0 };
  });
}
