/**
 * Miner thing objects shaped like a real rack's `listThings` reply with `status: 1`
 * (rack-protocol.md 1.1, the observed Antminer thing), about 1 KB of JSON each.
 */
export function minerThing(rackId: string, index: number): Record<string, unknown> {
  const id = `am-${rackId}-${index}`
  const code = `AM-S19XP-${String(index).padStart(4, '0')}`
  const container = `container-${(index % 8) + 1}`
  const position = `${Math.floor(index / 40) + 1}-${(index % 40) + 1}`
  const now = 1_750_000_000_000 + index
  return {
    id,
    code,
    type: 'miner-am-s19xp',
    tags: ['t-miner-am-s19xp', 't-miner-am', 't-miner', 'antminer', `id-${id}`, `code-${code}`, `pos-${position}`],
    info: {
      container,
      pos: position,
      macAddress: `02:00:00:${(index >> 8).toString(16).padStart(2, '0')}:${(index & 255).toString(16).padStart(2, '0')}:01`,
      serialNum: `SN${String(index * 7919).padStart(10, '0')}`,
      createdAt: now - 86_400_000,
      updatedAt: now,
    },
    rack: rackId,
    comments: [],
    address: `10.0.${index >> 8}.${index & 255}`,
    port: 4028,
    last: {
      snap: {
        success: true,
        stats: {
          status: 'mining',
          uptime_ms: 86_400_000 + index,
          nominal_efficiency_w_ths: 21.5,
          all_pools_shares: { accepted: 10_000 + index, rejected: 3, stale: 1 },
          hashrate_mhs: { avg: 140_000_000 + index, t_5s: 141_000_000, t_5m: 140_500_000, t_30m: 139_900_000 },
          frequency_mhz: { avg: 575, chips: [575, 575, 574] },
          temperature_c: { ambient: 24, max: 71, avg: 65.5, chips: [64, 66, 67] },
          power_w: 3010,
        },
        config: {
          pool_config: [{ url: 'stratum+tcp://pool.example:3333', username: `site.${id}` }],
          power_mode: 'normal',
          suspended: false,
          led_status: false,
          firmware_ver: '2024.06.1',
        },
      },
      alerts: [],
      err: null,
      ts: now,
    },
  }
}

/** The `count` things one rack returns. */
export function rackThings(rackId: string, count: number): Record<string, unknown>[] {
  return Array.from({ length: count }, (_, index) => minerThing(rackId, index))
}
