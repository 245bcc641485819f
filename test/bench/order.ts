/**
 * The paths' order in a round: as given in odd rounds, reversed in even ones (A B, B A, A B…),
 * so that a host that grows busier or quieter over the run does not favour whichever goes first.
 */
export function alternate<T>(paths: T[], round: number): T[] {
  return round % 2 === 1 ? [...paths] : [...paths].reverse()
}
