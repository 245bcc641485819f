import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { parse } from 'yaml'

interface Service {
  image?: string
  profiles?: string[]
  environment?: Record<string, string>
  healthcheck?: unknown
  command?: string[]
  ports?: string[]
  networks?: string[]
  secrets?: string[]
  depends_on?: Record<string, { condition: string }>
}
interface Compose {
  services: Record<string, Service>
  networks?: Record<string, { internal?: boolean }>
  secrets?: Record<string, { file?: string }>
}

describe('docker-compose.yml', () => {
  // `merge`: the cluster profile's services share their common parts through YAML merge keys (<<), as Compose reads them.
  const text = readFileSync('docker-compose.yml', 'utf8')
  const compose = parse(text, { merge: true }) as Compose

  it('pins every image to a version, never latest', () => {
    for (const [name, s] of Object.entries(compose.services)) {
      expect(s.image, name).toMatch(/^[a-z0-9./-]+:\d+\.\d+(\.\d+)?[a-z0-9.-]*$/)
      expect(s.image, name).not.toMatch(/:latest$/)
    }
    expect(compose.services.influxdb?.image).toMatch(/^influxdb:2\.9/)
  })

  it('requires every secret from the environment, with no default', () => {
    const env = JSON.stringify(compose.services)
    for (const v of ['SP_ADMIN_TOKEN', 'INFLUXDB_ADMIN_PASSWORD', 'INFLUXDB_ADMIN_TOKEN']) expect(env).toContain(`\${${v}:?`)
    expect(compose.services.smartplace?.environment).toMatchObject({ INFLUX_URL: 'http://influxdb:8086', INFLUX_DB: 'telemetry' })
    expect(env).not.toMatch(/PASSWORD: [^$]/)
  })

  it('has a health check on every service', () => {
    for (const [name, s] of Object.entries(compose.services)) expect(s.healthcheck, name).toBeDefined()
  })

  describe('the cluster profile', () => {
    const inCluster = Object.entries(compose.services).filter(([, s]) => s.profiles?.includes('cluster'))
    const cluster = Object.fromEntries(inCluster)
    const nodes = inCluster.filter(([, s]) => s.environment?.CLUSTER_NATS_URL)
    const variables = (services: [string, Service][]) =>
      [...JSON.stringify(Object.fromEntries(services)).matchAll(/\$\{([A-Z0-9_]+)(:?[-?+]?)/g)].map((m) => ({ name: m[1]!, how: m[2]! }))

    it('leaves the default profile as it was: the same two services, and no variable it must now set', () => {
      const defaults = Object.entries(compose.services).filter(([, s]) => !s.profiles)
      expect(defaults.map(([name]) => name)).toEqual(['influxdb', 'smartplace'])
      // Compose interpolates every service whatever the profile: a variable only the cluster required
      // would stop `docker compose up -d` too.
      const requiredByDefault = new Set(variables(defaults).flatMap((v) => (v.how === ':?' ? [v.name] : [])))
      for (const v of variables(inCluster)) if (v.how === ':?') expect(requiredByDefault, v.name).toContain(v.name)
    })

    it('has three NATS servers in one JetStream cluster, Redis, PostgreSQL and three nodes, each image pinned', () => {
      expect(Object.keys(cluster).sort()).toEqual(['nats-1', 'nats-2', 'nats-3', 'node-1', 'node-2', 'node-3', 'postgres', 'redis'])
      for (const name of ['nats-1', 'nats-2', 'nats-3']) {
        const s = cluster[name]!
        expect(s.image, name).toMatch(/^nats:2\.10\.\d+(-alpine)?$/)
        expect(s.environment?.NATS_NAME, name).toBe(name)
        const script = s.command!.join(' ')
        expect(script).toContain('server_name: $$NATS_NAME')
        expect(script).toContain('jetstream { store_dir: /data }')
        expect(script).toContain('name: smartplace')
        expect(script).toContain('routes: [ $${r}nats-1:6222, $${r}nats-2:6222, $${r}nats-3:6222 ]')
      }
      expect(cluster.redis?.image).toMatch(/^redis:7\.2\.\d+$/)
      expect(cluster.postgres?.image).toMatch(/^postgres:\d+\.\d+$/)
      for (const [name, s] of nodes) expect(s.image, name).toBe(compose.services.smartplace?.image)
      expect(nodes).toHaveLength(3)
    })

    it('gives every service a health check; a node waits for the engines, and the second and third for the first', () => {
      for (const [name, s] of inCluster) expect(s.healthcheck, name).toBeDefined()
      for (const [name, s] of nodes) {
        for (const engine of ['influxdb', 'nats-1', 'nats-2', 'nats-3', 'redis', 'postgres'])
          expect(s.depends_on?.[engine]?.condition, `${name} on ${engine}`).toBe('service_healthy')
      }
      expect(cluster['node-2']?.depends_on?.['node-1']?.condition).toBe('service_healthy')
      expect(cluster['node-3']?.depends_on?.['node-1']?.condition).toBe('service_healthy')
    })

    it('puts the nodes on the cluster env, each with its own name, and one key file as a mounted secret', () => {
      const ids = new Set<string>()
      for (const [name, s] of nodes) {
        const env = s.environment!
        expect(env.CLUSTER_NATS_URL, name).toBe('nats://nats-1:4222,nats://nats-2:4222,nats://nats-3:4222')
        expect(env.CLUSTER_REDIS_URL, name).toMatch(/^redis:\/\/\S*redis:6379$/)
        expect(env.DATABASE_URL, name).toMatch(/^postgres:\/\/\S+@postgres:5432\/smartplace$/)
        expect(env.SERVER_KEY_FILE, name).toBe('/run/secrets/server_key')
        expect(s.secrets, name).toContain('server_key')
        expect(env.ADMIN_TOKEN, name).toMatch(/^\$\{SP_ADMIN_TOKEN:\?/)
        expect(env.INFLUX_URL, name).toBe('http://influxdb:8086')
        expect(env.CLUSTER_PARTITIONS, name).toBe('12')
        ids.add(env.CLUSTER_NODE_ID!)
      }
      expect([...ids].sort()).toEqual(['node-1', 'node-2', 'node-3'])
      expect(compose.secrets?.server_key?.file).toBeDefined()
    })

    it('has no secret with a default: every variable is required, only the TLS file paths may be empty', () => {
      for (const v of variables(inCluster)) {
        if (v.name === 'SP_TLS_CERT' || v.name === 'SP_TLS_KEY') expect(v.how).toBe(':-')
        else expect(v.how, v.name).toBe(':?')
      }
      // No literal secret either: the engines' credential is a file (see the file's note).
      expect(JSON.stringify(cluster)).not.toMatch(/(PASSWORD|TOKEN|SECRET)"\s*:\s*"[^$]/)
    })

    it('gives every engine a credential from one mounted secret, and the nodes the files that hold it', () => {
      expect(compose.secrets?.cluster_secret?.file).toBe('./cluster.secret')
      for (const name of ['nats-1', 'nats-2', 'nats-3', 'redis', 'postgres'])
        expect(cluster[name]?.secrets, name).toContain('cluster_secret')
      for (const name of ['nats-1', 'nats-2', 'nats-3']) {
        const script = cluster[name]!.command!.join(' ')
        // Clients give the token; routes between the servers give it as their password.
        expect(script).toContain('s=$$(tr -dc A-Za-z0-9_.~- < /run/secrets/cluster_secret)')
        expect(script).toContain('authorization { token: "$$s" }')
        expect(script).toContain('authorization { user: route, password: "$$s" }')
        expect(script).toContain('r="nats-route://route:$$s@"')
      }
      const redis = cluster.redis!
      expect(redis.command!.join(' ')).toContain('requirepass "$$(tr -dc A-Za-z0-9_.~- < /run/secrets/cluster_secret)"')
      expect(JSON.stringify(redis.healthcheck)).toContain('REDISCLI_AUTH=')
      const pgEnv = cluster.postgres!.environment!
      expect(pgEnv.POSTGRES_PASSWORD_FILE).toBe('/run/secrets/cluster_secret')
      // No engine trusts a connection for coming from the network.
      expect(pgEnv.POSTGRES_HOST_AUTH_METHOD).toBeUndefined()
      for (const [name, s] of nodes) {
        expect(s.secrets, name).toContain('cluster_secret')
        for (const v of ['CLUSTER_NATS_TOKEN_FILE', 'CLUSTER_REDIS_PASSWORD_FILE', 'DATABASE_PASSWORD_FILE'])
          expect(s.environment?.[v], `${name} ${v}`).toBe('/run/secrets/cluster_secret')
      }
    })

    it('keeps the engines on an internal network of their own, publishing no port', () => {
      expect(compose.networks?.cluster?.internal).toBe(true)
      for (const name of ['nats-1', 'nats-2', 'nats-3', 'redis', 'postgres']) {
        expect(cluster[name]?.networks, name).toEqual(['cluster'])
        expect(cluster[name]?.ports, name).toBeUndefined()
      }
      for (const [name, s] of nodes) expect(s.networks, name).toEqual(['default', 'cluster'])
      // The nodes publish different host ports, beside the single-node service's.
      const published = Object.values(compose.services).flatMap((s) => (s.ports ?? []).map((p) => p.split(':')[0]))
      expect(new Set(published).size).toBe(published.length)
    })
  })
})
