import { describe, expect, it } from 'vitest'
import { parseWorkerArgs } from './args.ts'

describe('parseWorkerArgs', () => {
  it('parses the reference flags, camelCasing every one', () => {
    const args = parseWorkerArgs([
      '--wtype',
      'wrk-ork-proc-aggr',
      '--env',
      'development',
      '--cluster',
      'shard-1',
      '--service-root=/srv/ork',
      '--debug',
    ])
    expect(args).toMatchObject({ wtype: 'wrk-ork-proc-aggr', env: 'development', cluster: 'shard-1', debug: true })
    expect(args.serviceRoot).toBe('/srv/ork')
  })

  it('refuses a missing cluster with the reference code', () => {
    expect(() => parseWorkerArgs(['--wtype', 'wrk-ork-proc-aggr', '--env', 'test'])).toThrow('ERR_PROC_RACK_UNDEFINED')
  })

  it('refuses an unknown env and a stray positional argument', () => {
    expect(() => parseWorkerArgs(['--wtype', 'w', '--env', 'prod', '--cluster', 'c'])).toThrow('ERR_ENV_INVALID')
    // The reference's launcher takes production, development and test only (ork-behaviour.md section 0).
    expect(() => parseWorkerArgs(['--wtype', 'w', '--env', 'staging', '--cluster', 'c'])).toThrow('ERR_ENV_INVALID')
    expect(() => parseWorkerArgs(['oops'])).toThrow('ERR_ARG_INVALID')
  })
})
