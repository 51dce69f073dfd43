import { SessionInputError } from './session-store-errors'

/** A backend call that failed because the backend did not answer, or answered that it cannot serve. */
export class BackendOutageError extends Error {
  override readonly name = 'BackendOutageError'
}

// JavaScript's own errors, and SQL errors of the statement itself (syntax, data, constraint): bugs, not outages.
const PROGRAMMING_ERRORS = [TypeError, RangeError, SyntaxError, ReferenceError, SessionInputError]
const SQL_STATEMENT_ERROR = /^(22|23|42|2F|P0)/

/** Whether an error from a backend call means the backend is unavailable (rather than a bug in the call). */
export function isOutage(error: unknown): boolean {
  if (PROGRAMMING_ERRORS.some(type => error instanceof type)) return false
  const code = (error as { code?: unknown } | undefined)?.code
  if (typeof code === 'string' && SQL_STATEMENT_ERROR.test(code)) return false
  // Redis: a Lua script that failed, or a command spanning slots of a Cluster, is our bug; OOM, READONLY,
  // LOADING, MASTERDOWN, CLUSTERDOWN... are the server's state.
  if (error instanceof Error && error.name === 'ReplyError') {
    // Redis appends "script: ..., on @user_script:N" to a server-state error raised inside a script too.
    if (/^(OOM|READONLY|LOADING|MASTERDOWN|BUSY|NOREPLICAS|CLUSTERDOWN|TRYAGAIN|MISCONF)\b/.test(error.message)) return true
    if (/Error running script|user_script|^CROSSSLOT|^WRONGTYPE/.test(error.message)) return false
  }
  if (error instanceof Error && /keys in (a|the) pipeline/.test(error.message)) return false
  return true
}

/**
 * Deadlines and fail-fast for one backend, hand-written because circuit-breaker libraries open on an
 * error rate over a window, and a store must fail fast from the first missed deadline
 * (docs/decisions/001-deadlines-and-fail-fast.md):
 * - every call fails with BackendOutageError after `timeoutMs`, whatever the driver does;
 * - after an outage, calls fail at once with the same reason, except one probe every `retryMs`,
 *   whose success ends the outage: a backend that comes back is used again within `retryMs`.
 */
export class BackendGuard {
  readonly #timeoutMs: number
  readonly #retryMs: number
  #outage: string | undefined
  #nextProbeAt = 0

  constructor(timeoutMs: number, retryMs = Math.min(500, timeoutMs)) {
    this.#timeoutMs = timeoutMs
    this.#retryMs = retryMs
  }

  /** Why the backend is known to be down, or undefined. */
  get outage(): string | undefined {
    return this.#outage
  }

  async run<T>(operation: () => Promise<T>): Promise<T> {
    if (this.#outage !== undefined) {
      if (Date.now() < this.#nextProbeAt) throw new BackendOutageError(`unavailable since an earlier call: ${this.#outage}`)
      this.#nextProbeAt = Date.now() + this.#retryMs
    }
    try {
      const result = await this.#withDeadline(operation)
      this.#outage = undefined
      return result
    }
    catch (error) {
      if (isOutage(error)) {
        this.#outage = (error instanceof Error ? error.message : String(error)).replace(/\.$/, '')
        this.#nextProbeAt = Date.now() + this.#retryMs
        if (!(error instanceof BackendOutageError)) throw new BackendOutageError(this.#outage, { cause: error })
      }
      throw error
    }
  }

  #withDeadline<T>(operation: () => Promise<T>): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => reject(new BackendOutageError(`no answer within ${this.#timeoutMs} ms`)), this.#timeoutMs)
      timer.unref()
      const settle = <A>(done: (value: A) => void) => (value: A) => {
        clearTimeout(timer)
        done(value)
      }
      try {
        operation().then(settle(resolve), settle(reject))
      }
      catch (error) {
        settle(reject)(error)
      }
    })
  }
}
