// @ts-check
// oidc-provider's storage for the dev IdP: in memory (a restart signs everyone out of the IdP,
// not out of the app), and, unlike the built-in one, able to list sessions for the admin routes.

/** @typedef {Record<string, any> & { grantId?: string, uid?: string, userCode?: string }} Payload */
/**
 * An IdP session as oidc-provider stores it; `sid` is per client, as the client sees it.
 * @typedef {{ jti: string, accountId?: string, loginTs?: number, authorizations?: Record<string, { sid?: string, grantId?: string }> }} StoredSession
 */

export function createMemoryStorage() {
  /** @type {Map<string, { payload: Payload, expiresAt: number }>} keyed by `${model}:${id}` */
  const records = new Map()

  /** @param {string} key */
  function live(key) {
    const record = records.get(key)
    if (record && record.expiresAt <= Date.now()) records.delete(key)
    return records.get(key)?.payload
  }

  /** @param {(payload: Payload, key: string) => boolean} test */
  function findKey(test) {
    for (const key of records.keys()) {
      const payload = live(key)
      if (payload && test(payload, key)) return key
    }
    return undefined
  }

  /** The adapter class oidc-provider instantiates once per model name. */
  class Adapter {
    /** @param {string} model */
    constructor(model) {
      this.model = model
    }

    /** @param {string} id */
    key(id) {
      return `${this.model}:${id}`
    }

    /** @param {string} id @param {Payload} payload @param {number} [expiresIn] seconds */
    async upsert(id, payload, expiresIn) {
      records.set(this.key(id), { payload, expiresAt: expiresIn ? Date.now() + expiresIn * 1000 : Infinity })
    }

    /** @param {string} id */
    async find(id) {
      return live(this.key(id))
    }

    // Linear scans: a dev IdP holds a handful of records.
    /** @param {string} uid */
    async findByUid(uid) {
      const key = findKey((payload, key) => key.startsWith(`${this.model}:`) && payload.uid === uid)
      return key && live(key)
    }

    /** @param {string} userCode */
    async findByUserCode(userCode) {
      const key = findKey((payload, key) => key.startsWith(`${this.model}:`) && payload.userCode === userCode)
      return key && live(key)
    }

    /** @param {string} id */
    async consume(id) {
      const payload = live(this.key(id))
      if (payload) payload.consumed = Math.floor(Date.now() / 1000)
    }

    /** @param {string} id */
    async destroy(id) {
      records.delete(this.key(id))
    }

    /** @param {string} grantId */
    async revokeByGrantId(grantId) {
      for (const [key, { payload }] of records) {
        if (key.startsWith(`${this.model}:`) && payload.grantId === grantId) records.delete(key)
      }
    }
  }

  /** @returns {StoredSession[]} the live IdP sessions */
  function sessions() {
    const stored = [...records.keys()].filter((key) => key.startsWith('Session:')).map(live)
    return /** @type {StoredSession[]} */ (stored.filter((payload) => payload !== undefined))
  }

  return { Adapter, sessions }
}
