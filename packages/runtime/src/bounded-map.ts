/**
 * Puts `key` last in `map` (a Map keeps insertion order: last is newest) and, past `limit` entries, deletes
 * the oldest. Returns the key it evicted, so that the caller can drop what it keeps beside the entry.
 */
export function setNewest<K, V>(map: Map<K, V>, key: K, value: V, limit: number): K | undefined {
  map.delete(key);
  map.set(key, value);
  if (map.size <= limit) return undefined;
  const oldest = map.keys().next();
  if (oldest.done) return undefined;
  map.delete(oldest.value);
  return oldest.value;
}
