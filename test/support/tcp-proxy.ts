import net from 'node:net'

/**
 * A TCP proxy in front of the shared Kafka broker, as a fault injector for tests: `cut()` drops every
 * connection and refuses new ones, `restore()` accepts again on the same port. Only the
 * client routed through it sees the outage; the broker and every other client carry on.
 */
export async function startTcpProxy(target: { host: string; port: number }) {
  const sockets = new Set<net.Socket>()
  let server: net.Server | undefined
  let port = 0

  const listen = () =>
    new Promise<void>((resolve, reject) => {
      const next = net.createServer((client) => {
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
    async close() {
      await this.cut()
    },
  }
}
