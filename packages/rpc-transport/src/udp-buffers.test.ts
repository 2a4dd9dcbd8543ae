import { readFileSync } from 'node:fs'
import UDX from 'udx-native'
import { describe, expect, it } from 'vitest'
import { createUdx } from './udp-buffers.ts'

/** The largest receive buffer the kernel grants (net.core.rmem_max), when it says. */
function kernelMaximum(): number | undefined {
  try {
    return Number(readFileSync('/proc/sys/net/core/rmem_max', 'utf8').trim())
  } catch {
    return undefined
  }
}

describe('createUdx', () => {
  it('gives every socket the receive buffer once bound, as far as the kernel allows', async () => {
    const plain = new UDX().createSocket()
    const asked = 3 * 1024 * 1024
    const socket = createUdx(asked).createSocket()
    plain.bind(0, '127.0.0.1')
    socket.bind(0, '127.0.0.1')
    // Linux grants at most rmem_max and reports twice the size granted (its bookkeeping).
    const granted = Math.min(asked, kernelMaximum() ?? asked)
    expect(socket.getRecvBufferSize()).toBeGreaterThanOrEqual(granted)
    expect(socket.getRecvBufferSize()).toBeGreaterThanOrEqual(plain.getRecvBufferSize())
    await Promise.all([socket.close(), plain.close()])
  })
})
