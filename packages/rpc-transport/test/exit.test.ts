import { spawn } from 'node:child_process'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { expect, it } from 'vitest'

const here = dirname(fileURLToPath(import.meta.url))
const tsx = join(here, '../../../node_modules/.bin/tsx')

it('a process that closes its nodes and testnet exits by itself', async () => {
  const child = spawn(
    tsx,
    ['--tsconfig', join(here, 'fixtures/tsconfig.json'), join(here, 'fixtures/close-and-exit.ts')],
    {
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  )
  let stdout = ''
  let stderr = ''
  child.stdout.on('data', (chunk: Buffer) => {
    stdout += chunk.toString()
  })
  child.stderr.on('data', (chunk: Buffer) => {
    stderr += chunk.toString()
  })
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)))
  const deadline = new Promise<'stuck'>((resolve) => setTimeout(() => resolve('stuck'), 20_000).unref())
  const outcome = await Promise.race([exited, deadline])
  if (outcome === 'stuck') child.kill('SIGKILL')
  expect(stderr).toBe('')
  expect(outcome).toBe(0)
  expect(stdout.trim()).toBe('{"ok":true}')
})
