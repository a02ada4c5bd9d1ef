"""The working-day calendar (工作日历): the State Council holiday schedule held in the store.

Holidays falling on weekdays and adjusted working weekends (调休) are kept per year; a year not
in the store is unknown, never guessed. Seeded from `chinese_calendar`; administrators add the
years it does not know from the published notice. Deadlines in working days are counted on it."""
