/**
 * A worker in a process of its own, for tests that stall this one (a host short of CPU): a stall
 * here must not hold the worker up. It says when a request has arrived, and answers it 200
 * `answerMs` later.
 */
import { spawn } from 'node:child_process'
import { createInterface } from 'node:readline'

export interface WorkerElsewhere {
  url: string
  /** Resolves when the next request has arrived there. */
  received(): Promise<string>
  stop(): void
}

export async function workerElsewhere(answerMs: number): Promise<WorkerElsewhere> {
  const code = `const http = require('node:http');
    const s = http.createServer((q, r) => { q.resume(); q.on('end', () => { process.stdout.write('received\\n'); setTimeout(() => { r.writeHead(200, { 'content-type': 'application/json' }); r.end('{"ok":true}') }, ${answerMs}) }) });
    s.listen(0, '127.0.0.1', () => process.stdout.write('port ' + s.address().port + '\\n'))`
  const child = spawn(process.execPath, ['-e', code], { stdio: ['ignore', 'pipe', 'inherit'] })
  const lines = createInterface({ input: child.stdout })
  const next = () => new Promise<string>((resolve) => lines.once('line', resolve))
  const port = Number((await next()).split(' ')[1])
  return { url: `http://127.0.0.1:${port}`, received: next, stop: () => void child.kill() }
}

/** Holds the event loop for `ms`: no timer fires and no socket is read meanwhile. */
export function stall(ms: number): void {
  const until = Date.now() + ms
  while (Date.now() < until) {
    // busy
  }
}
