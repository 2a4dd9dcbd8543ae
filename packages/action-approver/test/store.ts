import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import Corestore from 'corestore'
import Hyperbee from 'hyperbee'

/** A real Hyperbee on a temp dir, opened the way the ork opens the approver's store. */
export interface TestStore {
  dir: string
  store: Corestore
  bee: Hyperbee
  /** Closes the bee and corestore, keeping the directory (to reopen it). */
  close(): Promise<void>
  /** Closes and removes the directory. */
  destroy(): Promise<void>
}

export async function makeTempDir(): Promise<string> {
  return mkdtemp(join(tmpdir(), 'ork-approver-'))
}

export async function openStore(dir?: string): Promise<TestStore> {
  const path = dir ?? (await makeTempDir())
  const store = new Corestore(path)
  await store.ready()
  const bee = new Hyperbee(store.get({ name: 'action-approver' }))
  await bee.ready()
  let closed = false
  const close = async () => {
    if (closed) return
    closed = true
    await bee.close()
    await store.close()
  }
  return {
    dir: path,
    store,
    bee,
    close,
    async destroy() {
      await close()
      await rm(path, { recursive: true, force: true })
    },
  }
}

/** Collects an async iterable. */
export async function collect<T>(iterable: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = []
  for await (const item of iterable) out.push(item)
  return out
}
