// An aggregation thread that exits at its first `finish` when the marker file named by
// ORK_TEST_STOP_MARKER does not exist yet (it creates it), and is the ork's built thread after.
import { existsSync, writeFileSync } from 'node:fs'
import { parentPort } from 'node:worker_threads'

const marker = process.env.ORK_TEST_STOP_MARKER
if (marker && !existsSync(marker)) {
  parentPort.on('message', (message) => {
    if (message.type !== 'finish') return
    writeFileSync(marker, '')
    process.exit(3)
  })
} else {
  await import('../../dist/aggregation-thread.js')
}
