// autocannon ships no types; the part bench/gateway-load.ts uses.
declare module 'autocannon' {
  interface Instance {
    on(
      event: 'response',
      listener: (client: unknown, statusCode: number, bytes: number, responseTime: number) => void,
    ): void
    on(
      event: 'done',
      listener: (result: { duration: number; errors: number; timeouts: number }) => void,
    ): void
  }
  export default function autocannon(options: Record<string, unknown>): Instance
}
