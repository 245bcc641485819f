import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod'
import { z } from 'zod'
import { DATASETS, datasetById } from '#devices'
import type { OpenDataStore } from '../../store/open-data-store.ts'
import type { Registry } from '../../store/registry.ts'
import { audit } from '../access/audit.ts'
import { actorOf } from '../access/route-access.ts'
import { ErrorBody, sendError } from '../errors.ts'

const DatasetState = z.object({
  id: z.string(),
  title: z.string(),
  description: z.string(),
  formats: z.array(z.string()),
  fields: z.array(z.string()).describe('every field that becomes public when the dataset is published, and no other'),
  published: z.boolean(),
  changedAt: z.string().nullable(),
  changedBy: z.string().nullable(),
})
type DatasetState = z.infer<typeof DatasetState>

/** Every defined dataset with its switch; one never switched is off. */
export async function datasetStates(store: OpenDataStore): Promise<DatasetState[]> {
  const switches = new Map((await store.list()).map((s) => [s.id, s]))
  return DATASETS.map((d) => {
    const s = switches.get(d.id)
    return {
      id: d.id,
      title: d.title,
      description: d.description,
      formats: [...d.formats],
      fields: Object.keys(d.fields.shape),
      published: s?.published ?? false,
      changedAt: s?.changedAt ?? null,
      changedBy: s?.changedBy ?? null,
    }
  })
}

/** An administrator (the council's open-data officer) sees exactly what each dataset makes public and switches it. */
export const openDataAdminRoutes =
  (deps: { registry: Registry }): FastifyPluginAsyncZod =>
  async (app) => {
    const store = deps.registry.openData

    app.get(
      '/api/open-data/datasets',
      {
        config: { access: 'admin' },
        schema: {
          tags: ['open data'],
          description: 'Every open dataset, its public fields, and whether it is published (off until switched on).',
          response: { 200: z.array(DatasetState) },
        },
      },
      async () => datasetStates(store),
    )

    app.put(
      '/api/open-data/datasets/:id',
      {
        config: { access: 'admin' },
        schema: {
          tags: ['open data'],
          description: 'Publishes or withdraws a dataset; audited with who and when.',
          params: z.object({ id: z.string().min(1).max(64) }),
          body: z.strictObject({ published: z.boolean() }),
          response: { 200: DatasetState, 404: ErrorBody },
        },
      },
      async (req, reply) => {
        const d = datasetById(req.params.id)
        if (!d) return sendError(reply, 404, 'NOT_FOUND', `no dataset ${req.params.id}`)
        const { published } = req.body
        await store.set(d.id, published, actorOf(req))
        await audit(deps.registry.audit, req, published ? 'dataset-published' : 'dataset-withdrawn', `dataset:${d.id}`)
        return (await datasetStates(store)).find((s) => s.id === d.id)!
      },
    )
  }
