// Input sizes (gold + response, in chars) for the worst-time-per-size table.
export const BUCKETS = [
  [100, "<100"],
  [1000, "100-1k"],
  [4000, "1k-4k"],
  [16384, "4k-16k"],
  [65536, "16k-64k"],
  [262144, "64k-256k"],
  [1048576, "256k-1M"],
  [Number.POSITIVE_INFINITY, "1M-2M"],
];

export const bucketOf = (chars) => BUCKETS.find(([max]) => chars < max)[1];

/** obj[key], created by `init` when missing. */
export function slot(obj, key, init) {
  if (!(key in obj)) obj[key] = init();
  return obj[key];
}
