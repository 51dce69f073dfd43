import { describe, expect, it } from 'vitest'
import { describeDevice } from '~/server/session-stores/device'

describe('a device label from a User-Agent', () => {
  it('names the browser, its major version, the system and the kind of device', () => {
    expect(describeDevice('Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36'))
      .toEqual({ label: 'Chrome 131 on macOS (computer)', browser: 'Chrome', os: 'macOS', type: 'computer' })
    expect(describeDevice('Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Mobile/15E148 Safari/604.1').label)
      .toBe('Safari 18 on iOS (phone)')
    expect(describeDevice('Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:133.0) Gecko/20100101 Firefox/133.0').label).toBe('Firefox 133 on Windows (computer)')
  })

  it('says it does not know, rather than failing, for an empty, unknown or hostile one', () => {
    expect(describeDevice(undefined).label).toBe('An unknown browser')
    expect(describeDevice('   ').label).toBe('An unknown browser')
    expect(describeDevice('curl/8.5.0').label).toBe('An unknown browser')
    const hostile = describeDevice(`Mozilla/5.0 (X11; Linux x86_64) Chrome/1<script>alert(1)</script>${'x'.repeat(5000)}`)
    expect(hostile.label).not.toMatch(/[<>]/)
    expect(hostile.label.length).toBeLessThan(120)
  })
})
