import { z } from 'zod'
import { defineDeviceType } from './define.ts'

/**
 * Smart bin (ultrasonic fill sensor). Field names and units follow FIWARE
 * WasteContainer (fillingLevel as parts per one). Thresholds: domain.md §5.1
 * "Suggested simulator/threshold defaults" (full 95 %, clear below 70 %,
 * 2 consecutive; fire > 60 °C; tilt 2 consecutive; battery 20 %). Clearing a full bin
 * also takes 2 readings: a lid-open episode reads near-empty for one sample (§5.1).
 */
export const BinReadings = z.strictObject({
  fillingLevel: z.number().min(0).max(1),
  // Optional: real LoRaWAN bin sensors lack one or the other (a Milesight EM310-UDL has no temperature
  // sensor, a Dragino LDDS75 no tilt sensor). An absent field is "not measured": the rules on it wait
  // for a reading that has it, rather than reading the gap as normal (devices/rules: a missing value
  // leaves a rule's state untouched).
  temperature: z.number().min(-50).max(200).optional(),
  batteryPct: z.number().min(0).max(100),
  tilted: z.boolean().optional(),
})
export type BinReadings = z.infer<typeof BinReadings>

export const smartBin = defineDeviceType({
  type: 'bin',
  title: 'Smart bin',
  measurement: 'bin',
  readings: BinReadings,
  fields: {
    fillingLevel: { label: 'Fill level', unit: '/' },
    temperature: { label: 'Temperature', unit: 'Cel', plausible: [-30, 120] },
    batteryPct: { label: 'Battery', unit: '%' },
    tilted: { label: 'Tilted', unit: 'bool' },
  },
  // domain.md §5.1: bin mode reports every 1,200 s.
  defaultIntervalS: 1200,
  // §5.1 "Collection event": a sharp level drop, often with a tilt blip as the bin is lifted.
  collections: { level: 'fillingLevel', tilt: 'tilted' },
  rules: [
    {
      kind: 'threshold',
      id: 'bin-full',
      title: 'Bin full',
      text: 'This bin is full and needs emptying.',
      field: 'fillingLevel',
      direction: 'above',
      raiseAt: 0.95,
      clearAt: 0.7,
      consecutive: 2,
      clearConsecutive: 2,
      severity: 'warning',
    },
    {
      // domain.md §3.3 item 11: "will be full by" against the next collection (the engine passes it as the deadline).
      kind: 'forecast',
      id: 'bin-full-before-collection',
      title: 'Bin will overflow before its collection',
      text: 'At the rate it is filling, this bin will be full before its next scheduled collection. Add it to an earlier round.',
      severity: 'warning',
      field: 'fillingLevel',
      level: 1,
      windowS: 3 * 86_400, // ours: three days of fill history
      minPoints: 6, // ours
      minSpanS: 6 * 3600, // ours
      // §5.1: a lid-open reading is near empty for one sample (dropped); a collection drops it for good (reset).
      resetJump: 0.3,
      consecutive: 2,
      clearConsecutive: 2,
    },
    {
      // Issue 9: a scheduled collection day ended with no collection seen while the bin is over 50 % full.
      kind: 'threshold',
      id: 'bin-not-collected',
      title: 'Bin missed on its collection day',
      text: 'This bin was due to be emptied but no collection was seen, and it is more than half full. Check with the round crew.',
      severity: 'warning',
      field: 'uncollectedFill',
      direction: 'above',
      raiseAt: 0.5,
      clearAt: 0.5,
    },
    {
      // §5.1 defaults: fire > 60 °C, or a rise > 15 °C between readings; no debounce.
      kind: 'any',
      id: 'bin-fire',
      title: 'Possible bin fire',
      text: 'The temperature inside this bin is very high or rose sharply. Treat it as a possible fire and call the fire service if you see smoke.',
      severity: 'critical',
      field: 'temperature',
      of: [
        {
          kind: 'threshold',
          id: 'hot',
          title: 'Over 60 °C',
          text: 'Over 60 °C inside the bin.',
          severity: 'critical',
          field: 'temperature',
          direction: 'above',
          raiseAt: 60,
          clearAt: 45,
        },
        {
          kind: 'rate',
          id: 'rising',
          title: 'Rise over 15 °C between readings',
          text: 'The temperature rose more than 15 °C since the last reading.',
          severity: 'critical',
          field: 'temperature',
          per: 'reading',
          direction: 'above',
          raiseAt: 15,
          clearAt: 5, // ours: the change between readings is small again…
          clearForS: 3600, // ours: …for an hour, so a fire that stops climbing is not cleared while still burning
          maxGapS: 3 * 1200, // three intervals: a rise over a long silence is no fire
        },
      ],
    },
    {
      kind: 'threshold',
      id: 'bin-knocked-over',
      title: 'Bin knocked over',
      text: 'This bin is lying on its side. Please set it upright and check for spilled waste.',
      field: 'tilted',
      direction: 'above',
      raiseAt: 1,
      clearAt: 1,
      consecutive: 2,
      severity: 'warning',
    },
    {
      // §5.1 defaults: battery low at 20 %. Also raised when the sensor's own rate says it gets there within
      // two weeks (ours), so a crew can swap it on a round; the alert carries when it will be empty.
      kind: 'forecast',
      id: 'bin-battery-low',
      title: 'Bin sensor battery low',
      text: 'The sensor battery in this bin is low or will be soon. Replace it on the next visit before it runs out.',
      severity: 'info',
      field: 'batteryPct',
      direction: 'below',
      level: 20,
      withinS: 14 * 86_400,
      windowS: 30 * 86_400, // ours
      minPoints: 4, // ours
      minSpanS: 3600, // ours
      resetJump: 30, // a new battery: the history starts again
    },
  ],
})
