import { describe, expect, it } from 'vitest'
import { countStatelessRequest, observeSessionCookies, sessionMetrics } from '~/server/utils/session-metrics'

/** The value of one sample of /api/metrics' text, e.g. `auth0_sessions_migrated_total`. */
async function sample(line: string): Promise<number> {
  const text = await sessionMetrics.metrics()
  const found = text.split('\n').find(row => row.startsWith(`${line} `))
  if (!found) throw new Error(`no sample ${line} in:\n${text}`)
  return Number(found.slice(line.length + 1))
}

describe('/api/metrics tells an operator how far the move from cookie sessions has gone', () => {
  it('every outcome is there from the start, at zero, so that a dashboard can show it staying there', async () => {
    for (const outcome of ['migrated', 'already_migrated', 'expired', 'unreadable', 'ended', 'superseded', 'not_migrated', 'store_unavailable']) {
      expect(await sample(`auth0_stateless_session_requests_total{outcome="${outcome}"}`)).toBeGreaterThanOrEqual(0)
    }
  })

  it('counts requests still bringing a stateless cookie by outcome, and sessions migrated once each', async () => {
    const before = {
      migrated: await sample('auth0_sessions_migrated_total'),
      requests: await sample('auth0_stateless_session_requests_total{outcome="migrated"}'),
      joined: await sample('auth0_stateless_session_requests_total{outcome="already_migrated"}'),
    }
    countStatelessRequest('migrated')
    countStatelessRequest('already_migrated')

    expect(await sample('auth0_sessions_migrated_total')).toBe(before.migrated + 1)
    expect(await sample('auth0_stateless_session_requests_total{outcome="migrated"}')).toBe(before.requests + 1)
    expect(await sample('auth0_stateless_session_requests_total{outcome="already_migrated"}')).toBe(before.joined + 1)
  })

  it('measures all session cookies of a request together, and nothing for a request without one', async () => {
    const count = () => sample('auth0_session_cookie_bytes_count')
    const small = () => sample('auth0_session_cookie_bytes_bucket{le="400"}')
    const [countBefore, smallBefore, sumBefore] = [await count(), await small(), await sample('auth0_session_cookie_bytes_sum')]

    observeSessionCookies({ '__a0_session.0': 'a'.repeat(3072), '__a0_session.1': 'b'.repeat(500), 'theme': 'dark' }, '__a0_session')
    observeSessionCookies({ __a0_session: 'c'.repeat(280) }, '__a0_session')
    observeSessionCookies({ theme: 'dark' }, '__a0_session')

    expect(await count()).toBe(countBefore + 2)
    expect(await small()).toBe(smallBefore + 1)
    expect(await sample('auth0_session_cookie_bytes_sum')).toBe(sumBefore + (15 + 3072) + (15 + 500) + (13 + 280))
  })
})
