// zod-free, so the first page a phone loads can use them without the schemas (dashboards/web's '#devices/crew-limits').

/** More bins than a crew can work through in a day; beyond this the list keeps the most urgent. */
export const CREW_MAX_BINS = 2000

/** The top of the list a phone asks for first: the rows it draws at once. */
export const CREW_FIRST_PAGE = 50
