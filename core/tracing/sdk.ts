import { context, trace } from '@opentelemetry/api'
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks'
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http'
import { resourceFromAttributes } from '@opentelemetry/resources'
import { BatchSpanProcessor, TracerProvider } from '@opentelemetry/sdk-trace'

/**
 * The OpenTelemetry SDK, loaded only when an OTLP endpoint is configured (core/tracing/tracing.ts
 * imports this file dynamically): spans in batches over OTLP/HTTP JSON to `<endpoint>/v1/traces`,
 * the active span carried across awaits by AsyncLocalStorage. Returns the flush-and-stop step for
 * shutdown.
 */
export function startSdk(options: { service: string; endpoint: string }): () => Promise<void> {
  const contextManager = new AsyncLocalStorageContextManager().enable()
  context.setGlobalContextManager(contextManager)
  const provider = new TracerProvider({
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
  return async () => {
    await provider.shutdown()
    trace.disable()
    context.disable()
  }
}
