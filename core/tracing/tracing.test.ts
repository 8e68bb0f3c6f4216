import { ProxyTracerProvider, trace } from '@opentelemetry/api'
import { afterEach, expect, test } from 'vitest'
import { nextTraceparent, parseTraceparent } from '../bus/trace.ts'
import { loadConfig } from '../config/env.ts'
import { createCommon } from '../context.ts'
import {
  contextFromTraceparent,
  inSpan,
  SPAN_KIND,
  startTracing,
  traceparentOf,
  tracingEnabled,
} from './tracing.ts'

const common = (env: NodeJS.ProcessEnv) =>
  createCommon('tracing-test', {
    config: loadConfig({ VERIDIS_LOG_LEVEL: 'silent', ...env }),
    exit: () => undefined,
  })

let stop: (() => Promise<void>) | undefined
afterEach(async () => {
  await stop?.()
  stop = undefined
})

test('behavior: without VERIDIS_OTLP_ENDPOINT tracing stays off: no provider registered, no span made', async () => {
  expect(await startTracing(common({}))).toBeUndefined()
  expect(tracingEnabled()).toBe(false)
  const provider = trace.getTracerProvider() as ProxyTracerProvider
  expect(provider).toBeInstanceOf(ProxyTracerProvider)
  // The API's no-op answers: nothing was set behind the proxy.
  expect(provider.getDelegate().constructor.name).toBe('NoopTracerProvider')
  expect(await inSpan('work', { kind: SPAN_KIND.INTERNAL }, async (span) => span)).toBeUndefined()
})

test('behavior: with an endpoint, spans continue the caller trace and nest across awaits', async () => {
  // Nothing listens there: exporting fails quietly (a logged warning), recording does not.
  const tracing = await startTracing(common({ VERIDIS_OTLP_ENDPOINT: 'http://127.0.0.1:9' }))
  expect(tracing).toBeDefined()
  stop = tracing!.stop
  expect(tracingEnabled()).toBe(true)
  const caller = parseTraceparent(nextTraceparent())!
  const [outer, inner] = await inSpan(
    'outer',
    { kind: SPAN_KIND.CONSUMER, parent: contextFromTraceparent(`00-${caller.traceId}-${caller.spanId}-01`) },
    async (outerSpan) => {
      await new Promise((resolve) => setTimeout(resolve, 5))
      const innerSpan = await inSpan('inner', { kind: SPAN_KIND.CLIENT }, async (span) => span)
      return [outerSpan!, innerSpan!] as const
    },
  )
  const outerContext = parseTraceparent(traceparentOf(outer))!
  expect(outerContext.traceId).toBe(caller.traceId)
  expect(outerContext.spanId).not.toBe(caller.spanId)
  expect(parseTraceparent(traceparentOf(inner))!.traceId).toBe(caller.traceId)
  // The inner span was made under the outer one, through the AsyncLocalStorage context.
  expect((inner as unknown as { parentSpanContext?: { spanId: string } }).parentSpanContext?.spanId).toBe(
    outerContext.spanId,
  )
  await tracing!.stop()
  expect(tracingEnabled()).toBe(false)
})
