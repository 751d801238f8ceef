/**
 * An HTTP server for a test, on a free port of 127.0.0.1: its base URL, and how to close it.
 */
import http from 'node:http'
import type { AddressInfo } from 'node:net'

export interface Listening {
  base: string
  close(): Promise<void>
}

export async function listen(listener: http.RequestListener): Promise<Listening> {
  const server = http.createServer(listener)
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  return {
    base: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  }
}
