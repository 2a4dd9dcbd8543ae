import { percentile, recordBenchmark } from '../../../scripts/bench-report.ts'
import { answerRackRequest, RackModel } from '../src/index.ts'

const NOW = 1_700_000_000_000

async function measure(runs: number, work: () => Promise<unknown>): Promise<number[]> {
  const samples: number[] = []
  for (let run = 0; run < runs; run++) {
    const started = performance.now()
    await work()
    samples.push(performance.now() - started)
  }
  return samples
}

async function main(): Promise<void> {
  const rack = new RackModel({ type: 'miner-am-s19xp', count: 400, seed: 1, now: () => NOW })
  const listRequest = {
    query: { 'last.snap.stats.status': { $in: ['mining', 'error'] } },
    fields: { id: 1, code: 1, 'info.container': 1, 'last.snap.stats.hashrate_mhs.t_5m': 1 },
    sort: { code: -1 },
    status: 1,
    limit: 400,
  }
  const list = await measure(50, () => rack.handle('listThings', listRequest))
  const requestBytes = Buffer.from(JSON.stringify(listRequest))
  const pending = { park: () => Promise.reject(new Error('unused')) }
  const wire = await measure(200, () => answerRackRequest(rack, {}, pending, 'listThings', requestBytes))
  const json = await measure(50, async () => JSON.stringify(await rack.handle('listThings', { limit: 400, status: 1 })))

  let clock = NOW
  await rack.handle('tailLog', { key: 'stat-5m', tag: 't-miner', limit: 288 })
  const cold = await measure(3, () => {
    clock += 86_400_000
    const fresh = new RackModel({ type: 'miner-am-s19xp', count: 400, seed: 1, now: () => clock })
    return fresh.handle('tailLog', { key: 'stat-5m', tag: 't-miner', limit: 288 })
  })
  const warm = await measure(20, () => rack.handle('tailLog', { key: 'stat-5m', tag: 't-miner', limit: 288 }))

  const row = (name: string, samples: number[]) =>
    `| ${name} | ${percentile(samples, 50).toFixed(2)} | ${percentile(samples, 95).toFixed(2)} |`
  const body = [
    'Rack handlers without network (one rack of 400 simulated `miner-am-s19xp`, Node 20, 2 cores), ms:',
    '',
    '| operation | median | p95 |',
    '|---|---|---|',
    row('listThings query + projection + natural sort, 400 things', list),
    row('listThings status:1, 400 things, plus JSON.stringify', json),
    row('same listThings through the wire layer (encoded reply reused)', wire),
    row('tailLog stat-5m t-miner limit 288, cold (computes 115k device readings)', cold),
    row('tailLog stat-5m t-miner limit 288, cached', warm),
  ].join('\n')
  console.log(body)
  recordBenchmark('rack-simulator', 'pnpm --filter @ork/rack-simulator bench', body)
}

await main()
