/** Bus events that mean "the store has something new for the outbox": each makes it look now, not at its next poll. */
export const COMMIT_EVENTS = ['alert:raised', 'alert:cleared', 'alert:changed', 'case:changed', 'collection:recorded'] as const

/** What the outbox hears of the bus (the service's bus, or the thread's relay of it). */
export interface CommitPokes {
  on(event: (typeof COMMIT_EVENTS)[number], listener: () => void, owner?: string): () => void
}
