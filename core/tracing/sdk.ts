import { context, DiagLogLevel, diag, trace } from '@opentelemetry/api'
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks'
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http'
import { resourceFromAttributes } from '@opentelemetry/resources'
import {
  BatchSpanProcessor,
  ParentBasedSampler,
  TraceIdRatioBasedSampler,
  TracerProvider,
} from '@opentelemetry/sdk-trace'
import type { Logger } from '../logging/logger.ts'

/**
 * The OpenTelemetry SDK, loaded only when an OTLP endpoint is configured (core/tracing/tracing.ts
 * imports this file dynamically): spans in batches over OTLP/HTTP JSON to `<endpoint>/v1/traces`,
 * the active span carried across awaits by AsyncLocalStorage. The SDK's own warnings (an export
 * that failed, spans dropped from a full queue) go to the process log, and dropped spans are
 * counted. Returns the flush-and-stop step for shutdown and the count.
 */
export function startSdk(options: {
  service: string
  endpoint: string
  sampleRatio: number
  logger: Logger
}): {
  stop: () => Promise<void>
  droppedSpans: () => number
} {
  let dropped = 0
  const warn = (message: string, ...args: unknown[]) => {
    const count = /^Dropped (\d+) spans/.exec(message)
    if (count) dropped += Number(count[1])
    options.logger.warn({ otel: args.map(String) }, `tracing: ${message}`)
  }
  const quiet = () => undefined
  diag.setLogger(
    { error: warn, warn, info: quiet, debug: quiet, verbose: quiet },
    { logLevel: DiagLogLevel.WARN, suppressOverrideMessage: true },
  )
  const contextManager = new AsyncLocalStorageContextManager().enable()
  context.setGlobalContextManager(contextManager)
  const provider = new TracerProvider({
    // A trace is recorded whole or not at all: only its root draws; every later span, in any
    // process, follows the sampled flag its traceparent carries.
    sampler: new ParentBasedSampler({ root: new TraceIdRatioBasedSampler(options.sampleRatio) }),
    resource: resourceFromAttributes({ 'service.name': options.service, 'service.namespace': 'veridis' }),
    spanProcessors: [
      new BatchSpanProcessor({
        exporter: new OTLPTraceExporter({ url: `${options.endpoint.replace(/\/+$/, '')}/v1/traces` }),
        // Spans are dropped beyond the queue rather than holding memory while the collector is away.
        maxQueueSize: 8_192,
        maxExportBatchSize: 1_024,
        scheduledDelayMillis: 1_000,
      }),
    ],
  })
  trace.setGlobalTracerProvider(provider)
  return {
    async stop() {
      // A collector away at shutdown costs the last spans, not a failed exit.
      await provider.shutdown().catch((error: unknown) => {
        options.logger.warn({ err: String(error) }, 'tracing: last spans not exported')
      })
      trace.disable()
      context.disable()
      diag.disable()
    },
    droppedSpans: () => dropped,
  }
}
