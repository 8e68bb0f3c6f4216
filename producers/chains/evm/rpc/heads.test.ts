import { pino } from 'pino'
import { describe, expect, test } from 'vitest'
import { watchHeads } from './heads.ts'

describe('new-head websocket', () => {
  test('error: a ws URL the websocket library refuses is logged redacted, and nothing is left unhandled', async () => {
    const lines: string[] = []
    const logger = pino({ level: 'info' }, { write: (line: string) => lines.push(line) })
    const controller = new AbortController()
    const heads = watchHeads({
      url: 'ws://127.0.0.1:9/v2/SECRET-KEY#fragment',
      chainId: 1n,
      logger,
      signal: controller.signal,
      onHead: () => undefined,
    })
    await new Promise((resolve) => setTimeout(resolve, 50))
    await heads.stop()
    controller.abort()
    const output = lines.join('')
    expect(output).toContain('new-head websocket URL refused; following this chain by HTTP polling only')
    expect(output).toContain('ws://127.0.0.1:9/***')
    expect(output).not.toContain('SECRET-KEY')
    expect(output).not.toContain('#fragment')
  })
})
