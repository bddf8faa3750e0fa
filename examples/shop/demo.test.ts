import { runShopScenario } from '@tidings/cli/demo'
import { describe, expect, it } from 'vitest'

describe('shop demo', () => {
  it('ships one order after two retries and dead-letters the poison order with its history', async () => {
    const result = await runShopScenario({ url: 'memory://demo-test' })
    expect(result.shipped).toEqual(['o-1001'])
    expect(result.deadLetters).toHaveLength(1)
    const [letter] = result.deadLetters
    expect(letter!.event?.data).toMatchObject({ orderId: 'o-1002', address: null })
    expect(letter!.history.map((failure) => failure.error.message)).toEqual(
      Array(3).fill('order o-1002 has no shipping address'),
    )
    expect(result.timeline.some((line) => line.includes('retry scheduled'))).toBe(true)
  })
})
