import { housingApi } from './housing-data.ts'
import { startEstates } from './housing-estates.ts'
import { startHome } from './housing-home.ts'
import { startEstate } from './housing-homes.ts'
import type { StartView } from './view.ts'

/**
 * The housing officer's view: #homes lists estates, #homes/<site> an estate's homes,
 * #homes/<site>/<uprn> one home with its charts, fault, cases and alerts.
 */
export const startHousing: StartView = async (ctx) => {
  const api = housingApi(ctx.api)
  const [site, uprn] = ctx.path
  if (site && uprn) return startHome(ctx, api, site, uprn)
  if (site) return startEstate(ctx, api, site)
  return startEstates(ctx, api)
}
