/** Small seeded PRNG (mulberry32) so a run with the same seed is repeatable. */
export type Rng = () => number

export function createRng(seed: number): Rng {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

export const between = (rng: Rng, lo: number, hi: number) => lo + (hi - lo) * rng()

/** Derives a per-device seed from the run seed and the device id. */
export function seedFor(seed: number, id: string): number {
  let h = seed ^ 0x811c9dc5
  for (let i = 0; i < id.length; i++) h = Math.imul(h ^ id.charCodeAt(i), 0x01000193)
  return h >>> 0
}

export const round = (v: number, digits: number) => Math.round(v * 10 ** digits) / 10 ** digits
