import { readFileSync } from 'node:fs'

/**
 * A credential kept in a file (a Compose or Kubernetes secret), named by `variable`: the file as it
 * is, or an error with a stable code that says which variable and file, and what to check.
 */
export function readSecretFile(variable: string, file: string): string {
  try {
    return readFileSync(file, 'utf8')
  } catch (e) {
    throw new Error(
      `CONFIG_SECRET_UNREADABLE: ${variable}: cannot read ${file} (${(e as NodeJS.ErrnoException).code ?? (e as Error).message}); check the path and that this user may read it`,
    )
  }
}
