import UDX from 'udx-native'
import { describe, expect, it } from 'vitest'
import { createUdx } from './udp-buffers.ts'

describe('createUdx', () => {
  it('gives every socket the receive buffer once bound', async () => {
    const plain = new UDX().createSocket()
    const socket = createUdx(3 * 1024 * 1024).createSocket()
    plain.bind(0, '127.0.0.1')
    socket.bind(0, '127.0.0.1')
    // Linux reports twice the size granted (its bookkeeping); udx-native's own default is smaller.
    expect(socket.getRecvBufferSize()).toBeGreaterThanOrEqual(3 * 1024 * 1024)
    expect(socket.getRecvBufferSize()).toBeGreaterThan(plain.getRecvBufferSize())
    await Promise.all([socket.close(), plain.close()])
  })
})
