import { throttledLog } from './throttled-log'

/** Why the app answered 503, for operators: each reason at most once per 10 s, however many requests hit it. */
export const logOutage = throttledLog(10_000)
