// The few parts of untyped packages the bench uses (no @types packages are installed for them).

declare module 'express-session' {
  export interface SessionData { [key: string]: unknown }
  export class Store {
    get(sid: string, callback: (error: unknown, session?: SessionData | null) => void): void
    set(sid: string, session: SessionData, callback?: (error?: unknown) => void): void
  }
  const session: { Store: typeof Store }
  export default session
}

declare module 'connect-pg-simple' {
  import type { Store } from 'express-session'
  import type { Pool } from 'pg'
  interface PgStoreOptions {
    pool: Pool
    tableName: string
    createTableIfMissing: boolean
    pruneSessionInterval: false | number
  }
  export default function connectPgSimple(session: { Store: typeof Store }): new (options: PgStoreOptions) => Store & { close(): Promise<void> }
}

declare module 'autocannon' {
  interface Options {
    url: string
    headers?: Record<string, string>
    connections?: number
    duration?: number
  }
  interface Result {
    requests: { total: number }
    latency: { p99: number }
    duration: number
    errors: number
    non2xx: number
  }
  export default function autocannon(options: Options): Promise<Result>
}
