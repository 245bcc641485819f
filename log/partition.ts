/**
 * The partition of a device's records in the replicated log (cluster mode): FNV-1a of its id.
 * Every node must agree for the life of a cluster, so it depends on nothing but the id and the
 * partition count, and a device's records stay in one partition, read in order by one owner.
 */
export function partitionOf(deviceId: string | null | undefined, partitions: number): number {
  if (!deviceId || partitions <= 1) return 0
  let h = 0x811c9dc5
  for (let i = 0; i < deviceId.length; i++) {
    h ^= deviceId.charCodeAt(i)
    h = Math.imul(h, 0x01000193)
  }
  return (h >>> 0) % partitions
}
