/**
 * The CLI's output, on stdout. What it quotes (a worker's error, a host's frequency or user id, a
 * note someone typed) is data: any control character in it is shown as an escape, so a row
 * cannot clear or rewrite the operator's terminal (printable.ts). Our own line feeds stay.
 */
import { forTerminal } from '../printable.js'

export function print(text: string): void {
  process.stdout.write(`${forTerminal(text)}\n`)
}
