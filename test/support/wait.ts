/** Resolves once `cond` holds (polled every 25 ms); rejects after `ms` with what was awaited. */
export async function eventually(cond: () => boolean | Promise<boolean>, ms = 5_000): Promise<void> {
  const deadline = Date.now() + ms;
  for (;;) {
    if (await cond()) return;
    if (Date.now() > deadline) throw new Error(`condition not met within ${ms} ms: ${cond.toString()}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}
