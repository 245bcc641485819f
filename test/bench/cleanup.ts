// Everything the bench starts or creates registers how to undo it here, so that a failed
// phase, an exception or Ctrl-C still leaves no process, temp dir or exported tree behind.
type Task = () => unknown

const tasks: Task[] = []

/** Registers an undo step; returns a function that drops it once the owner has cleaned up itself. */
export function onCleanup(task: Task): () => void {
  tasks.push(task)
  return () => {
    const i = tasks.lastIndexOf(task)
    if (i >= 0) tasks.splice(i, 1)
  }
}

let running: Promise<void> | null = null

/**
 * Runs the steps in reverse order of registration; one failing step does not stop the others.
 * A second caller (the signal handler racing the main flow's `finally`) waits for the same run.
 */
export function cleanupAll(): Promise<void> {
  running ??= (async () => {
    while (tasks.length > 0) {
      const task = tasks.pop()!
      try {
        await task()
      } catch (e) {
        process.stderr.write(`[bench] cleanup: ${(e as Error).message}\n`)
      }
    }
  })().finally(() => {
    running = null
  })
  return running
}

/** On SIGINT/SIGTERM: clean up (bounded, a hung step must not keep the terminal) and exit. */
export function cleanupOnSignals(): void {
  let stopping = false
  const stop = (signal: NodeJS.Signals, code: number) => {
    if (stopping) return
    stopping = true
    process.stderr.write(`\n[bench] ${signal}: stopping what the bench started\n`)
    const timer = setTimeout(() => process.exit(code), 20_000)
    timer.unref()
    void cleanupAll().finally(() => process.exit(code))
  }
  process.on('SIGINT', () => stop('SIGINT', 130))
  process.on('SIGTERM', () => stop('SIGTERM', 143))
}
