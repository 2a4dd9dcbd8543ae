import { rmSync } from 'node:fs'
import { loadWorkerConfig, type WorkerConfig } from '../../src/config/load-config.ts'
import { createServiceRoot } from './harness.ts'

export interface HistoryOptions {
  /** aggrTailLogStoreDays (default 3). */
  days?: number
  /** aggrTailLogApiDelay in ms (default 1). */
  delay?: number
  /** Extra aggrTailLogKeys entries placed before the miner one. */
  extraKeys?: { key: string; type: string; tag: string }[]
  /** Default: UTC and America/New_York. */
  timezones?: { code: string; offset?: number; timezone?: string }[]
}

/** The shipped config with a short daily-history job: the shipped miner key only, hourly, 1 ms between racks. */
export function historyConfig(options: HistoryOptions = {}): WorkerConfig {
  const root = createServiceRoot()
  try {
    const config = loadWorkerConfig(root, 'production')
    const minerKey = config.aggrData?.aggrTailLogKeys?.find((entry) => entry.type === 'miner')
    config.aggrData = {
      agrrTailLogIntvlMs: 3_600_000,
      aggrTailLogStoreDays: options.days ?? 3,
      aggrTailLogApiDelay: options.delay ?? 1,
      aggrTailLogKeys: [...(options.extraKeys ?? []), minerKey as NonNullable<typeof minerKey>],
    }
    config.globalConfig = {
      ...config.globalConfig,
      aggrTailLogTimezones: options.timezones ?? [
        { code: 'UTC', offset: 0 },
        { code: 'NY', timezone: 'America/New_York' },
      ],
    }
    return config
  } finally {
    rmSync(root, { recursive: true, force: true })
  }
}
