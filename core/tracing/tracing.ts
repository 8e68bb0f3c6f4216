import {
  type Attributes,
  type Context,
  context,
  type Link,
  ROOT_CONTEXT,
  type Span,
  SpanKind,
  SpanStatusCode,
  trace,
} from '@opentelemetry/api'
import { formatTraceparent, parseTraceparent } from '../bus/trace.ts'
import type { Common } from '../context.ts'

/**
 * OpenTelemetry spans, off unless VERIDIS_OTLP_ENDPOINT is set. Off, the SDK is never loaded,
 * every helper here returns before touching the API, and the bus mints its own span ids
 * (core/bus/trace.ts). On, `startTracing` loads the SDK (sdk.ts) and the helpers record
 * spans whose W3C context is what travels in the `traceparent` header.
 *
 * Attributes name topics, partitions, offsets, consumer groups, RPC methods and redacted
 * endpoints; never keys, values, subject ids or proof inputs.
 */

export type { Span }

let enabled = false

export const SPAN_KIND = SpanKind
export { SpanStatusCode }

/**
 * Loads the SDK when an endpoint is configured, and flushes it last on shutdown. Returns the
 * flush-and-stop step (also run on shutdown; a second call does nothing) and the count of spans
 * dropped from a full export queue, or undefined when tracing stays off.
 */
export async function startTracing(
  common: Common,
): Promise<{ stop: () => Promise<void>; droppedSpans: () => number } | undefined> {
  const endpoint = common.config.otlpEndpoint
  if (!endpoint || enabled) return undefined
  const { startSdk } = await import('./sdk.ts')
  const sdk = startSdk({
    service: common.service,
    endpoint,
    sampleRatio: common.config.traceSampleRatio,
    logger: common.logger,
  })
  enabled = true
  let stopped: Promise<void> | undefined
  const stop = () => {
    enabled = false
    stopped ??= sdk.stop()
    return stopped
  }
  // Registered first, so it runs last: spans of the stopping components are flushed too.
  common.shutdown.onShutdown('tracing', stop)
  common.logger.info({ endpoint, sampleRatio: common.config.traceSampleRatio }, 'tracing to OTLP endpoint')
  return { stop, droppedSpans: sdk.droppedSpans }
}

export function tracingEnabled(): boolean {
  return enabled
}

function tracer() {
  return trace.getTracer('veridis')
}

/** A context whose parent span is the remote one named by `traceparent`, else the active context. */
export function contextFromTraceparent(traceparent: string | undefined): Context {
  const parsed = parseTraceparent(traceparent)
  if (!parsed) return context.active()
  return trace.setSpanContext(ROOT_CONTEXT, {
    traceId: parsed.traceId,
    spanId: parsed.spanId,
    traceFlags: Number.parseInt(parsed.flags, 16),
    isRemote: true,
  })
}

/** A context with no span in it: what a span that starts a trace of its own is parented by. */
export function rootContext(): Context {
  return ROOT_CONTEXT
}

/** The span's W3C context, as the `traceparent` header carries it. */
export function traceparentOf(span: Span): string {
  const { traceId, spanId, traceFlags } = span.spanContext()
  return formatTraceparent({ traceId, spanId, flags: traceFlags.toString(16).padStart(2, '0') })
}

/** A link to the span a `traceparent` names, if it names one. */
export function linkTo(traceparent: string | undefined): Link | undefined {
  const parsed = parseTraceparent(traceparent)
  if (!parsed) return undefined
  return {
    context: {
      traceId: parsed.traceId,
      spanId: parsed.spanId,
      traceFlags: Number.parseInt(parsed.flags, 16),
      isRemote: true,
    },
  }
}

/** Starts a span (only call when tracing is enabled); the caller ends it. */
export function startSpan(
  name: string,
  options: { kind: SpanKind; attributes?: Attributes; links?: Link[]; parent?: Context },
): Span {
  return tracer().startSpan(
    name,
    {
      kind: options.kind,
      ...(options.attributes ? { attributes: options.attributes } : {}),
      ...(options.links ? { links: options.links } : {}),
    },
    options.parent ?? context.active(),
  )
}

/** Marks the span failed with the error's name (messages can quote data, so they stay out). */
export function failSpan(span: Span, error: unknown): void {
  span.setStatus({ code: SpanStatusCode.ERROR, message: error instanceof Error ? error.name : 'error' })
}

/**
 * Runs `work` inside a span that is active for everything it awaits, ending it when `work`
 * settles. Off, it is `work()` and nothing else.
 */
export async function inSpan<R>(
  name: string,
  options: { kind: SpanKind; attributes?: Attributes; links?: Link[]; parent?: Context },
  work: (span: Span | undefined) => Promise<R>,
): Promise<R> {
  if (!enabled) return work(undefined)
  const span = startSpan(name, options)
  try {
    return await context.with(trace.setSpan(options.parent ?? context.active(), span), () => work(span))
  } catch (error) {
    failSpan(span, error)
    throw error
  } finally {
    span.end()
  }
}
