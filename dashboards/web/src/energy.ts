import './energy.css'
import { startBuilding } from './energy-building.ts'
import { startBuildings } from './energy-list.ts'
import type { StartView } from './view.ts'

/** The energy manager's view: #buildings ranks the buildings by out-of-hours waste, #buildings/<meter> shows one. */
export const start: StartView = async (ctx) => {
  const [deviceId] = ctx.path
  return deviceId ? startBuilding(ctx, deviceId) : startBuildings(ctx)
}
