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

  it('refuses a missing cluster with the reference code, and says so in words', () => {
    expect(() => parseWorkerArgs(['--wtype', 'wrk-ork-proc-aggr', '--env', 'test'])).toThrow(
      'ERR_PROC_RACK_UNDEFINED: --cluster <id> is required',
    )
  })

  it('refuses a cluster id that would put its files outside status/ and store/', () => {
    const withCluster = (cluster: string) => () =>
      parseWorkerArgs(['--wtype', 'w', '--env', 'test', '--cluster', cluster])
    for (const cluster of ['../../escape', 'a/b', 'a\\b', '..', '.', 'tab\there']) {
      expect(withCluster(cluster), cluster).toThrow(/^ERR_CLUSTER_INVALID: --cluster ".*" cannot name a file/s)
    }
    expect(withCluster('shard-1.a_b')().cluster).toBe('shard-1.a_b')
  })

  it('refuses an unknown env and a stray positional argument', () => {
    expect(() => parseWorkerArgs(['--wtype', 'w', '--env', 'prod', '--cluster', 'c'])).toThrow(
      'ERR_ENV_INVALID: --env must be one of production, development, test (got "prod")',
    )
    expect(() => parseWorkerArgs(['--wtype', 'w', '--cluster', 'c'])).toThrow('(none given)')
    expect(() => parseWorkerArgs(['--env', 'test', '--cluster', 'c'])).toThrow('ERR_WTYPE_INVALID: --wtype')
    // The reference's launcher takes production, development and test only (ork-behaviour.md section 0).
    expect(() => parseWorkerArgs(['--wtype', 'w', '--env', 'staging', '--cluster', 'c'])).toThrow('ERR_ENV_INVALID')
    expect(() => parseWorkerArgs(['oops'])).toThrow('ERR_ARG_INVALID: unexpected argument "oops"')
  })
})
