import net from 'node:net'
import { Kafka, logLevel } from 'kafkajs'

/**
 * A TCP proxy in front of a real service (the shared Kafka broker, an anvil), as a fault
 * injector for tests: `cut()` drops every connection and refuses new ones, `restore()`
 * accepts again on the same port, `stall()` accepts connections and swallows what they send
 * (a hung server) until `unstall()`, `retarget()` sends every new connection to another
 * server. Only the client routed through it sees the change; everyone else carries on.
 */
export async function startTcpProxy(initialTarget: { host: string; port: number }) {
  let target = initialTarget
  const sockets = new Set<net.Socket>()
  let server: net.Server | undefined
  let port = 0
  let stalled = false
  const dropAll = () => {
    for (const socket of sockets) socket.destroy()
    sockets.clear()
  }

  const listen = () =>
    new Promise<void>((resolve, reject) => {
      const next = net.createServer((client) => {
        if (stalled) {
          sockets.add(client)
          client.on('error', () => sockets.delete(client)).on('close', () => sockets.delete(client))
          client.resume()
          return
        }
        const upstream = net.connect(target)
        sockets.add(client)
        sockets.add(upstream)
        const drop = () => {
          client.destroy()
          upstream.destroy()
          sockets.delete(client)
          sockets.delete(upstream)
        }
        client.on('error', drop).on('close', drop)
        upstream.on('error', drop).on('close', drop)
        client.pipe(upstream).pipe(client)
      })
      next.once('error', reject)
      next.listen(port, '127.0.0.1', () => {
        port = (next.address() as net.AddressInfo).port
        server = next
        resolve()
      })
    })

  await listen()
  return {
    get port() {
      return port
    },
    async cut() {
      const closing = server
      server = undefined
      await new Promise<void>((resolve) => {
        if (!closing) return resolve()
        closing.close(() => resolve())
        for (const socket of sockets) socket.destroy()
        sockets.clear()
      })
    },
    restore: listen,
    /** From now on connections go to `next`; open ones are dropped (clients reconnect). */
    retarget(next: { host: string; port: number }) {
      target = next
      dropAll()
    },
    /** Open connections are dropped; new ones are accepted and never answered. */
    stall() {
      stalled = true
      dropAll()
    },
    /** The swallowed connections are dropped; clients reconnect to the target. */
    unstall() {
      stalled = false
      dropAll()
    },
    async close() {
      await this.cut()
    },
  }
}

/**
 * A kafkajs client whose every broker connection goes through the proxy, whatever address
 * the cluster metadata advertises; quick to give up, so a cut shows within seconds.
 */
export function kafkaThrough(proxy: { readonly port: number }, clientId: string, requestTimeout = 5_000) {
  return new Kafka({
    clientId,
    brokers: [`127.0.0.1:${proxy.port}`],
    connectionTimeout: 1_000,
    requestTimeout,
    retry: { initialRetryTime: 100, retries: 3 },
    logLevel: logLevel.NOTHING,
    socketFactory: ({ onConnect }) => net.connect({ host: '127.0.0.1', port: proxy.port }, onConnect),
  })
}
