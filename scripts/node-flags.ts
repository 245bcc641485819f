import { existsSync, readFileSync } from 'node:fs'
import { join } from 'node:path'

/**
 * The node flags the service runs with, from `service/node-flags` (one source for `npm start`, the
 * image, the tests and the bench). Why they exist is in the README ("Memory"). A tree without the
 * file (an older commit the bench compares against) runs with node's defaults.
 */
export function nodeFlags(root = '.'): string[] {
  const file = join(root, 'service', 'node-flags')
  if (!existsSync(file)) return []
  return readFileSync(file, 'utf8').split(/\s+/).filter(Boolean)
}
