// @ts-check
// The dev IdP's key material, created on first run and reused after, so that restarts keep
// the browser's certificate exception, the app's cached JWKS and existing app sessions valid.
import { generateKeyPairSync, randomBytes, randomUUID, X509Certificate } from 'node:crypto'
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import selfsigned from 'selfsigned'

/** `.data/` is gitignored: nothing generated here is ever committed. */
export const defaultDataDir = fileURLToPath(new URL('../.data/dev-idp/', import.meta.url))

/**
 * Reads `name` from `dir`, or writes what `create()` returns there first.
 * @param {string} dir
 * @param {string} name
 * @param {() => string | Promise<string>} create
 */
async function readOrCreate(dir, name, create) {
  const path = join(dir, name)
  if (!existsSync(path)) {
    mkdirSync(dir, { recursive: true })
    writeFileSync(path, await create(), { mode: 0o600 })
  }
  return { path, text: readFileSync(path, 'utf8') }
}

/**
 * A self-signed certificate for `localhost`, regenerated once it has expired.
 * @param {string} dir
 * @returns {Promise<{ cert: string, key: string, certPath: string }>}
 */
export async function tlsCertificate(dir) {
  const certPath = join(dir, 'tls-cert.pem')
  const usable = existsSync(certPath) && new Date(new X509Certificate(readFileSync(certPath)).validTo) > new Date()
  if (!usable) {
    const notAfterDate = new Date()
    notAfterDate.setFullYear(notAfterDate.getFullYear() + 2)
    const pems = await selfsigned.generate([{ name: 'commonName', value: 'localhost' }], {
      keySize: 2048,
      algorithm: 'sha256',
      notAfterDate,
      extensions: [
        // Self-signed, so it is its own CA: that is what lets NODE_EXTRA_CA_CERTS trust it.
        { name: 'basicConstraints', cA: true },
        { name: 'keyUsage', digitalSignature: true, keyEncipherment: true, keyCertSign: true },
        { name: 'extKeyUsage', serverAuth: true },
        { name: 'subjectAltName', altNames: [{ type: 2, value: 'localhost' }, { type: 7, ip: '127.0.0.1' }, { type: 7, ip: '::1' }] },
      ],
    })
    mkdirSync(dir, { recursive: true })
    writeFileSync(join(dir, 'tls-key.pem'), pems.private, { mode: 0o600 })
    writeFileSync(certPath, pems.cert)
  }
  return { cert: readFileSync(certPath, 'utf8'), key: readFileSync(join(dir, 'tls-key.pem'), 'utf8'), certPath }
}

/**
 * The private JWKS (one RS256 key) the IdP signs id tokens and logout tokens with.
 * @param {string} dir
 * @returns {Promise<{ keys: object[] }>}
 */
export async function signingKeys(dir) {
  const { text } = await readOrCreate(dir, 'signing-jwks.json', () => {
    const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 })
    const jwk = { ...privateKey.export({ format: 'jwk' }), kid: randomUUID(), alg: 'RS256', use: 'sig' }
    return JSON.stringify({ keys: [jwk] }, null, 2)
  })
  return JSON.parse(text)
}

/**
 * The app's NUXT_AUTH0_SESSION_SECRET in development: random per checkout, stable across runs.
 * @param {string} dir
 */
export async function appSessionSecret(dir) {
  const { text } = await readOrCreate(dir, 'app-session-secret', () => randomBytes(32).toString('hex'))
  return text.trim()
}

/**
 * The bearer token of the admin routes (dev-idp/admin-routes.mjs): random per checkout, stable across
 * runs, so that tests and `npm run dev` read it here. Not the client secret, whose default is public.
 * @param {string} dir
 */
export async function adminSecret(dir) {
  const { text } = await readOrCreate(dir, 'admin-secret', () => randomBytes(32).toString('hex'))
  return text.trim()
}
