export { EnergyBuilding, EnergyBuildings, EnergyDay, EnergyHalfHour, EnergyWeek } from './api.ts'
export { BAND_HIGH, BAND_LOW, type BandSlot, type DayProfile, dayProfile, pastSameWeekdays, type SoFar, soFar } from './band.ts'
export {
  halfHourly,
  halfHoursOfDay,
  kwhAt,
  londonHhMm,
  londonMinute,
  MAX_SPREAD_MS,
  type RegisterBucket,
  riseWh,
  type Series,
  SLOT_MS,
} from './half-hours.ts'
export { type BaseLoad, baseLoad, inOpeningHours, OPEN_HOURS_TEXT, type OutOfHours, outOfHoursWaste } from './out-of-hours.ts'
export { ABOVE_BASELINE_RULE, OUT_OF_HOURS_RULE } from './rules.ts'
export { type EnergyRules, mondayOf, type WeekFigures, weekFigures } from './week.ts'
