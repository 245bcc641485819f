/**
 * Keeps an in-memory copy of stored data in step with writes: a snapshot, then every change the
 * store reports after its commit, so a reading that follows an API answer meets the new data.
 * Changes that arrive while a snapshot is being read are applied again on top of it (the snapshot
 * may predate them); loads take turns, so an older snapshot never lands after a newer one.
 */
export function keepInStep<C, S>(o: {
  /** The store's change hook; it returns the unsubscribe. Without one, only reload() brings changes (another process's writes). */
  subscribe?: ((listener: (change: C) => void) => () => void) | undefined
  snapshot: () => Promise<S>
  /** Replaces the copy with a snapshot. */
  install: (snapshot: S) => void
  apply: (change: C) => void
}) {
  let buffered: C[] | null = null
  let unsubscribe: (() => void) | null = null
  let turn: Promise<void> = Promise.resolve()

  const onChange = (c: C) => {
    buffered?.push(c)
    o.apply(c)
  }
  const load = async () => {
    const during: C[] = []
    buffered = during
    try {
      o.install(await o.snapshot())
      for (const c of during) o.apply(c)
    } finally {
      buffered = null
    }
  }
  const reload = () => {
    const r = turn.then(load)
    turn = r.catch(() => {})
    return r
  }
  return {
    async start() {
      unsubscribe ??= o.subscribe?.(onChange) ?? null
      await reload()
    },
    reload,
    close() {
      unsubscribe?.()
      unsubscribe = null
    },
  }
}
