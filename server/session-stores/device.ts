import Bowser from 'bowser'

/** What a session keeps about the device that signed in: a readable label, never the raw User-Agent or an address. */
export interface DeviceFacts {
  /** For example "Chrome 156 on macOS (computer)". */
  label: string
  browser: string | undefined
  os: string | undefined
  type: 'computer' | 'phone' | 'tablet' | 'TV' | 'bot' | undefined
}

const TYPES: Record<string, DeviceFacts['type']> = { desktop: 'computer', mobile: 'phone', tablet: 'tablet', tv: 'TV', bot: 'bot' }
// A header is the client's to write: keep names short, and the label free of anything but text.
const clip = (text: string | undefined) => text ? text.replace(/[^\p{L}\p{N} ._-]/gu, '').slice(0, 40).trim() || undefined : undefined

/** The device a User-Agent describes (bowser, a maintained parser; docs/devices.md says why not our own patterns). */
export function describeDevice(userAgent: string | undefined): DeviceFacts {
  const parsed = userAgent?.trim() ? Bowser.parse(userAgent.slice(0, 1024)) : undefined
  const browser = clip(parsed?.browser.name)
  const major = clip(parsed?.browser.version?.split('.')[0])
  const os = clip(parsed?.os.name)
  const type = TYPES[parsed?.platform.type ?? '']
  const name = browser ? (major ? `${browser} ${major}` : browser) : 'An unknown browser'
  const label = `${name}${os ? ` on ${os}` : ''}${type ? ` (${type})` : ''}`
  return { label, browser, os, type }
}
