export {
  BANK_HOLIDAYS_ENGLAND_WALES,
  type BankHoliday,
  ENGLAND_AND_WALES,
  GovUkBankHolidays,
  type HolidayCalendar,
  holidayCalendar,
  holidaysFromGovUk,
} from './bank-holidays.ts'
export { dayNumberOf, endOfLondonDay, isoDateOf, londonDayNumber, londonOffsetMs, startOfLondonDay } from './london-time.ts'
export { addCalendarDays, addWorkingDays, calendarCovers, isWorkingDay, londonDate, type WorkingDayOptions } from './working-days.ts'
