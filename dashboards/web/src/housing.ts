import './housing.css'
import { startHousing } from './housing-view.ts'
import type { StartView } from './view.ts'

/** The housing officer's view: estates, an estate's homes, a home's page (see housing-view.ts). */
export const start: StartView = (ctx) => startHousing(ctx)
