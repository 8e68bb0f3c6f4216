/** Pieces every route group's schema uses. */

export const UUID_PATTERN = '^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$'

/** Either credential works on every authenticated route. */
export const SECURITY: { [scheme: string]: string[] }[] = [{ bearer: [] }, { apiKey: [] }]

export const ERROR_SCHEMA = {
  type: 'object',
  required: ['error', 'message', 'requestId'],
  properties: {
    error: { type: 'string', description: 'stable code' },
    message: { type: 'string' },
    field: { type: 'string', description: 'the offending field, e.g. body.inputs.secret[0]' },
    requestId: { type: 'string' },
  },
} as const
