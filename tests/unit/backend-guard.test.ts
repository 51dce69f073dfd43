import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { BackendGuard, BackendOutageError, isOutage } from '~/server/session-stores/backend-guard'
import { SessionInputError } from '~/server/session-stores/session-store-errors'

const never = () => new Promise<never>(() => {})
const refused = () => Promise.reject(new Error('connect ECONNREFUSED 127.0.0.1:6379'))

describe('deadlines and fail-fast for a backend (a controlled clock)', () => {
  beforeEach(() => {
    vi.useFakeTimers()
  })
  afterEach(() => {
    vi.useRealTimers()
  })

  it('a call that never answers fails as an outage at its deadline', async () => {
    const guard = new BackendGuard(1000)
    const call = guard.run(never).catch((error: unknown) => error)
    await vi.advanceTimersByTimeAsync(999)
    expect(guard.outage).toBeUndefined()
    await vi.advanceTimersByTimeAsync(1)
    expect(await call).toMatchObject({ name: 'BackendOutageError', message: 'no answer within 1000 ms' })
  })

  it('while the backend is known to be down, calls fail at once without reaching it', async () => {
    const guard = new BackendGuard(1000, 500)
    await expect(guard.run(refused)).rejects.toThrow('ECONNREFUSED')
    const backend = vi.fn(async () => 'answer')
    await expect(guard.run(backend)).rejects.toThrow('unavailable since an earlier call: connect ECONNREFUSED 127.0.0.1:6379')
    expect(backend).not.toHaveBeenCalled()
  })

  it('one call per retry period probes it; when that probe answers, the outage is over', async () => {
    const guard = new BackendGuard(1000, 500)
    await expect(guard.run(refused)).rejects.toThrow(BackendOutageError)
    await vi.advanceTimersByTimeAsync(500)
    const probe = guard.run(async () => 'answer')
    // The probe is under way: the others still fail fast instead of piling up on the backend.
    await expect(guard.run(async () => 'second')).rejects.toThrow(BackendOutageError)
    expect(await probe).toBe('answer')
    expect(guard.outage).toBeUndefined()
    expect(await guard.run(async () => 'third')).toBe('third')
  })

  it('a failed probe keeps the outage, with the newest reason', async () => {
    const guard = new BackendGuard(1000, 500)
    await expect(guard.run(refused)).rejects.toThrow()
    await vi.advanceTimersByTimeAsync(500)
    await expect(guard.run(() => Promise.reject(new Error('READONLY You can\'t write against a read only replica.')))).rejects.toThrow()
    expect(guard.outage).toMatch(/^READONLY/)
  })

  it('a programming error passes through as it is and is no outage', async () => {
    const guard = new BackendGuard(1000)
    const bug = new SessionInputError('A session id must be ...')
    await expect(guard.run(() => Promise.reject(bug))).rejects.toBe(bug)
    await expect(guard.run(() => { throw new TypeError('x is not a function') })).rejects.toThrow(TypeError)
    expect(guard.outage).toBeUndefined()
  })
})

describe('what counts as an outage', () => {
  it('network errors, timeouts and a server that cannot serve', () => {
    expect(isOutage(new Error('connect ECONNREFUSED 127.0.0.1:5432'))).toBe(true)
    expect(isOutage(Object.assign(new Error('the database system is shutting down'), { code: '57P03' }))).toBe(true)
    expect(isOutage(Object.assign(new Error('OOM command not allowed'), { name: 'ReplyError' }))).toBe(true)
    expect(isOutage(Object.assign(new Error('CLUSTERDOWN The cluster is down'), { name: 'ReplyError' }))).toBe(true)
    // Raised by a command inside a script: Redis names the script, but the server's state is the cause.
    expect(isOutage(Object.assign(new Error('OOM command not allowed when used memory > \'maxmemory\'. script: 062cfb, on @user_script:40.'), { name: 'ReplyError' }))).toBe(true)
    expect(isOutage(Object.assign(new Error('READONLY You can\'t write against a read only replica. script: 062cfb, on @user_script:40.'), { name: 'ReplyError' }))).toBe(true)
  })

  it('not a bug in the statement or script itself', () => {
    expect(isOutage(Object.assign(new Error('syntax error at or near "SELEC"'), { code: '42601' }))).toBe(false)
    expect(isOutage(Object.assign(new Error('ERR Error running script (call to f_1): @user_script:3: bad'), { name: 'ReplyError' }))).toBe(false)
    expect(isOutage(new RangeError('Invalid array length'))).toBe(false)
    expect(isOutage(Object.assign(new Error('CROSSSLOT Keys in request don\'t hash to the same slot'), { name: 'ReplyError' }))).toBe(false)
    expect(isOutage(new Error('All keys in the pipeline should belong to the same slots allocation group'))).toBe(false)
  })
})
