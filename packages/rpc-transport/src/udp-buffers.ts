import UDX from 'udx-native'

/**
 * Receive buffer asked for on every UDP socket of a node. Replies from many racks arrive at
 * the ork's one socket at the same moment (50 racks × ~160 KiB for a day of tailLog); with
 * udx-native's 1 MiB the kernel drops datagrams and each stalled stream waits for UDX's
 * ~1 s retransmission timeout (measured: 50 such replies from another process took 1.1 s
 * in about one round of three, against 92–181 ms with 4 MiB). The kernel caps the size
 * at net.core.rmem_max.
 */
export const DEFAULT_UDP_RECEIVE_BUFFER_BYTES = 4 * 1024 * 1024

/**
 * A UDX instance whose sockets, DHT and holepunch sockets alike, get `receiveBufferBytes`
 * as soon as they are bound. Passed to HyperDHT as its `udx`.
 */
export function createUdx(receiveBufferBytes: number): UDX {
  const udx = new UDX()
  const createSocket = udx.createSocket.bind(udx)
  udx.createSocket = (options) => {
    const socket = createSocket(options)
    socket.once('listening', () => {
      // Best effort: a refused size leaves the kernel's default, which still works.
      try {
        socket.setRecvBufferSize(receiveBufferBytes)
      } catch {}
    })
    return socket
  }
  return udx
}
