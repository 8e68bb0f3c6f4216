import type { AvroSchema } from '../../schemas/load.ts'
import type { Config } from '../config/env.ts'
import { NonRetryableError, RetryableError } from '../errors.ts'
import { backoffDelay, sleep } from './retry.ts'

/**
 * The project's one client of a Confluent-compatible schema registry (Apicurio's
 * `/apis/ccompat/v7` locally), over its REST API with fetch: compatibility per subject,
 * registration, id lookups and writer schemas by id. Every call is bounded in time; a
 * registry that is away, overloaded or failing is a RetryableError (retried here a few
 * times first), a request it refuses is not.
 */
const REQUEST_TIMEOUT_MS = 10_000
const ATTEMPTS = 3
const BACKOFF_BASE_MS = 200
const BACKOFF_MAX_MS = 2_000

/** The registry answered, and refused: the same request will be refused again. */
export class SchemaRegistryRequestError extends NonRetryableError {
  override name = 'SchemaRegistryRequestError'
  readonly status: number

  constructor(message: string, options: { status: number; body: string; subject?: string }) {
    super(message, {
      details: { status: options.status, body: options.body.slice(0, 500), subject: options.subject },
    })
    this.status = options.status
  }
}

export class IncompatibleSchemaError extends NonRetryableError {
  override name = 'IncompatibleSchemaError'
}

export function createSchemaRegistryClient(config: Config['schemaRegistry']) {
  const authorization = config.auth
    ? `Basic ${Buffer.from(`${config.auth.username}:${config.auth.password}`).toString('base64')}`
    : undefined

  const attempt = async (method: string, route: string, body: unknown): Promise<Response> => {
    const headers: Record<string, string> = { accept: 'application/vnd.schemaregistry.v1+json' }
    if (body !== undefined) headers['content-type'] = 'application/vnd.schemaregistry.v1+json'
    if (authorization) headers.authorization = authorization
    try {
      return await fetch(`${config.url}${route}`, {
        method,
        headers,
        signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      })
    } catch (cause) {
      throw new RetryableError('schema registry is unreachable or did not answer in time', {
        cause,
        details: { url: config.url, route, timeoutMs: REQUEST_TIMEOUT_MS },
      })
    }
  }

  /** The response text of a successful call; failures classified as above. */
  const request = async (
    method: string,
    route: string,
    what: string,
    options: { body?: unknown; subject?: string } = {},
  ): Promise<string> => {
    for (let attemptNumber = 1; ; attemptNumber++) {
      let failure: RetryableError
      try {
        const response = await attempt(method, route, options.body)
        const text = await response.text()
        if (response.ok) return text
        if (response.status < 500 && response.status !== 429) {
          throw new SchemaRegistryRequestError(`schema registry refused to ${what}`, {
            status: response.status,
            body: text,
            ...(options.subject === undefined ? {} : { subject: options.subject }),
          })
        }
        failure = new RetryableError(`schema registry failed to ${what}`, {
          details: { status: response.status, body: text.slice(0, 500), subject: options.subject },
        })
      } catch (error) {
        if (!(error instanceof RetryableError)) throw error
        failure = error
      }
      if (attemptNumber >= ATTEMPTS) throw failure
      await sleep(backoffDelay(attemptNumber, BACKOFF_BASE_MS, BACKOFF_MAX_MS))
    }
  }

  const subjectRoute = (subject: string) => `/subjects/${encodeURIComponent(subject)}`

  return {
    async setCompatibility(subject: string, compatibility: string): Promise<void> {
      await request('PUT', `/config/${encodeURIComponent(subject)}`, `set ${compatibility} for ${subject}`, {
        body: { compatibility },
        subject,
      })
    },

    /**
     * Registers `schema` under `subject` (idempotent: an identical schema keeps its id).
     * Throws IncompatibleSchemaError when the subject's compatibility rule refuses it.
     */
    async register(subject: string, schema: AvroSchema): Promise<number> {
      try {
        const text = await request('POST', `${subjectRoute(subject)}/versions`, `register ${subject}`, {
          body: { schema: JSON.stringify(schema) },
          subject,
        })
        return (JSON.parse(text) as { id: number }).id
      } catch (error) {
        if (error instanceof SchemaRegistryRequestError && error.status === 409) {
          throw new IncompatibleSchemaError(
            `the registry refused the schema for ${subject} as incompatible with the subject's earlier versions`,
            { cause: error, details: { subject } },
          )
        }
        throw error
      }
    },

    /** The id `schema` was registered with under `subject`; a 404 SchemaRegistryRequestError if never. */
    async idOf(subject: string, schema: AvroSchema): Promise<number> {
      const text = await request('POST', subjectRoute(subject), `look up a schema of ${subject}`, {
        body: { schema: JSON.stringify(schema) },
        subject,
      })
      return (JSON.parse(text) as { id: number }).id
    },

    /**
     * Removes a subject and its schemas for good (tests clean up their namespaces with it):
     * a soft delete, then the permanent one, as the API requires.
     */
    async deleteSubject(subject: string): Promise<void> {
      await request('DELETE', subjectRoute(subject), `delete ${subject}`, { subject }).catch((error) => {
        // Already soft-deleted by an earlier attempt: the permanent delete still applies.
        if (!(error instanceof SchemaRegistryRequestError && error.status === 404)) throw error
      })
      await request('DELETE', `${subjectRoute(subject)}?permanent=true`, `delete ${subject} permanently`, {
        subject,
      })
    },

    /** The schema text registered with `id`; a 404 SchemaRegistryRequestError if the id is unknown. */
    async schemaById(id: number): Promise<string> {
      const text = await request('GET', `/schemas/ids/${id}`, `return schema id ${id}`)
      return (JSON.parse(text) as { schema: string }).schema
    },
  }
}
