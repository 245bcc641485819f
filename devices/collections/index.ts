export {
  type BinLevelReading,
  CollectionDetection,
  DEFAULT_COLLECTION_DETECTION,
  DETECTION_RECENT,
  type DetectedCollection,
  DetectionState,
  type DetectionStep,
  initialDetectionState,
  stepCollection,
} from './detect.ts'
export {
  Collection,
  CollectionSource,
  Round,
  RoundCollectionSummary,
  RoundId,
  RoundInput,
  ScheduleSource,
} from './round.ts'
export {
  CollectionSchedule,
  IsoWeekday,
  isoWeekdayOf,
  londonDayBounds,
  londonWallTime,
  nextCollection,
  previousCollection,
  scheduledBetween,
} from './schedule.ts'
