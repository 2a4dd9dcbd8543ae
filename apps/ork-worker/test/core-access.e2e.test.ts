import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import type { RpcNode } from '@ork/rpc-transport'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { inertContext } from '../src/api/api-document.ts'
import { orkMethods } from '../src/methods/index.ts'
import { type Harness, startHarness } from './support/harness.ts'

/** The `w` methods of the reference's method table (ork-behaviour.md 2.1). */
const REFERENCE_WRITE_METHODS = [
  'registerRack',
  'forgetRacks',
  'forgetThings',
  'saveThingComment',
  'editThingComment',
  'deleteThingComment',
  'pushAction',
  'pushActionsBatch',
  'setGlobalConfig',
  'voteAction',
  'cancelActionsBatch',
  'saveWrkSettings',
]

let harness: Harness
let readOnly: RpcNode
let outsider: RpcNode

beforeAll(async () => {
  harness = await startHarness({ racks: [{ type: 'miner-am-s19xp', count: 5 }] })
  readOnly = await harness.newClient()
  outsider = await harness.newClient()
  writeFileSync(
    join(harness.root, 'config/facs/net.config.json'),
    JSON.stringify({
      r0: {
        allow: [harness.client.clientPublicKey.toString('hex')],
        allowReadOnly: [readOnly.clientPublicKey.toString('hex')],
      },
    }),
  )
  // The firewall is read at start: every test here runs against an ork started with it.
  await harness.restartOrk()
})
afterAll(async () => {
  await harness?.close()
})

describe('restart, firewall and read-only peers', () => {
  it('keeps its keys, instance id and racks across a restart on the same root', async () => {
    const before = { key: harness.ork.rpcPublicKey, client: harness.ork.rpcClientKey, id: harness.ork.instanceId }
    await harness.restartOrk()
    expect(harness.ork.rpcPublicKey).toBe(before.key)
    expect(harness.ork.rpcClientKey).toBe(before.client)
    expect(harness.ork.instanceId).toBe(before.id)
    const racks = (await harness.call('listRacks', {})) as { id: string }[]
    expect(racks.map((rack) => rack.id)).toEqual(['miner-am-s19xp-rack-1'])
  })

  it('lets a read-only peer read and refuses its writes at the transport level', async () => {
    const key = harness.ork.rpcPublicKey
    expect(await readOnly.request(key, 'listRacks', {}, { timeout: 15_000 })).toHaveLength(1)
    const refused = await readOnly.request(key, 'forgetRacks', { all: true }, { timeout: 15_000 }).then(
      () => null,
      (error: unknown) => error,
    )
    expect(refused).toMatchObject({ code: 'REQUEST_ERROR', causeMessage: 'ERR_MISSING_WRITE_PERMISSIONS' })
    // nothing was forgotten
    expect(await harness.call('listRacks', {})).toHaveLength(1)
  })

  it("refuses a read-only peer every write method: the reference's and any the ork registers as w", async () => {
    // The reference's list catches a write method registered as r; the registered list covers new ones.
    const registered = orkMethods(inertContext())
      .filter((method) => method.op === 'w')
      .map((method) => method.name)
    for (const method of new Set([...REFERENCE_WRITE_METHODS, ...registered])) {
      const refused = await readOnly.request(harness.ork.rpcPublicKey, method, {}, { timeout: 15_000 }).then(
        () => null,
        (error: unknown) => error,
      )
      expect(refused, method).toMatchObject({ code: 'REQUEST_ERROR', causeMessage: 'ERR_MISSING_WRITE_PERMISSIONS' })
    }
  })

  it('refuses a peer outside allow/allowReadOnly', async () => {
    const refused = await outsider.request(harness.ork.rpcPublicKey, 'listRacks', {}, { timeout: 15_000 }).then(
      () => null,
      (error: unknown) => error,
    )
    expect(refused).toMatchObject({ code: expect.stringMatching(/CHANNEL_CLOSED|TIMEOUT_EXCEEDED/) })
  })
})
