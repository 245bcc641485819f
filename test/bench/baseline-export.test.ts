import { existsSync, lstatSync, realpathSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'
import { describeCheckout, exportBaseline } from './baseline-export.ts'

const ROOT = fileURLToPath(new URL('../..', import.meta.url))

// `npm run bench -- --baseline REF` runs an older commit's service from an exported tree;
// this checks the export without starting it (the bench itself does that).
describe.skipIf(describeCheckout(ROOT).commit === null)('bench baseline export', () => {
  it('exports HEAD with node_modules linked in, and removes it all', () => {
    const b = exportBaseline(ROOT, 'HEAD')
    try {
      expect(b.commit).toMatch(/^[0-9a-f]{40}$/)
      expect(existsSync(join(b.root, 'service', 'main.ts'))).toBe(true)
      expect(lstatSync(join(b.root, 'node_modules')).isSymbolicLink()).toBe(true)
      expect(realpathSync(join(b.root, 'node_modules'))).toBe(realpathSync(join(ROOT, 'node_modules')))
    } finally {
      b.remove()
    }
    expect(existsSync(b.root)).toBe(false)
  })

  it('refuses a ref that is not a commit', () => {
    expect(() => exportBaseline(ROOT, 'no-such-ref-anywhere')).toThrow(/not a commit/)
  })
})
