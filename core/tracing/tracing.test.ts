import { ProxyTracerProvider, trace } from '@opentelemetry/api'
import { afterEach, expect, test } from 'vitest'
import { nextTraceparent, parseTraceparent } from '../bus/trace.ts'
import { loadConfig } from '../config/env.ts'
import { createCommon } from '../context.ts'
import {
  contextFromTraceparent,
  inSpan,
  SPAN_KIND,
  type Span,
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

test('behavior: with a sample ratio of 0 new traces are not recorded but still propagate, and a sampled caller is followed', async () => {
  const tracing = await startTracing(
    common({ VERIDIS_OTLP_ENDPOINT: 'http://127.0.0.1:9', VERIDIS_TRACE_SAMPLE_RATIO: '0' }),
  )
  stop = tracing!.stop
  // Asked while the span is open: an ended span never says it records.
  const open = (span: Span | undefined) => ({
    recording: span!.isRecording(),
    traceparent: traceparentOf(span!),
  })
  const root = await inSpan('root', { kind: SPAN_KIND.PRODUCER }, async (span) => open(span))
  expect(root.recording).toBe(false)
  // Ids still minted, flagged unsampled: consumers downstream record nothing of it either.
  expect(parseTraceparent(root.traceparent)!.flags).toBe('00')
  const downstream = await inSpan(
    'downstream',
    { kind: SPAN_KIND.CONSUMER, parent: contextFromTraceparent(root.traceparent) },
    async (span) => open(span),
  )
  expect(downstream.recording).toBe(false)
  expect(parseTraceparent(downstream.traceparent)!.traceId).toBe(parseTraceparent(root.traceparent)!.traceId)
  const caller = parseTraceparent(nextTraceparent())!
  const followed = await inSpan(
    'followed',
    { kind: SPAN_KIND.SERVER, parent: contextFromTraceparent(`00-${caller.traceId}-${caller.spanId}-01`) },
    async (span) => open(span),
  )
  expect(followed.recording).toBe(true)
})
