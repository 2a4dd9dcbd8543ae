import { describe, expect, it } from 'vitest'
import { DEFAULT_TIMEOUT_MS, dhtOptionsFor, parseCliArgs, UsageError } from './args.ts'

const key = 'ab'.repeat(32)

describe('parseCliArgs', () => {
  it("takes hp-rpc-cli's flags", () => {
    expect(parseCliArgs(['-s', key, '-m', 'listRacks', '-d', '{"keys":1}', '-t', '5000'])).toMatchObject({
      server: key,
      method: 'listRacks',
      data: '{"keys":1}',
      timeoutMs: 5000,
      raw: false,
      validate: true,
      bootstrap: [],
    })
  })

  it('takes repeated and comma-separated bootstrap nodes, --raw, --no-validate, --store, -f', () => {
    const options = parseCliArgs([
      '--bootstrap',
      '127.0.0.1:49737',
      '--bootstrap=10.0.0.1:1,10.0.0.2:2',
      '-s',
      'status/ork.json',
      '-m',
      'listThings',
      '-f',
      'query.json',
      '--raw',
      '--no-validate',
      '--store',
      'keys',
    ])
    expect(options).toMatchObject({
      bootstrap: [
        { host: '127.0.0.1', port: 49737 },
        { host: '10.0.0.1', port: 1 },
        { host: '10.0.0.2', port: 2 },
      ],
      server: 'status/ork.json',
      file: 'query.json',
      raw: true,
      validate: false,
      store: 'keys',
      timeoutMs: DEFAULT_TIMEOUT_MS,
    })
  })

  it('refuses what it cannot run, with a message naming the flag', () => {
    const usage = (argv: string[]) => () => parseCliArgs(argv)
    expect(usage(['-m', 'listRacks'])).toThrow(new UsageError('-s <key|status file> is required'))
    expect(usage(['-s', key])).toThrow(new UsageError('-m <method> is required'))
    expect(usage(['-s', key, '-m', 'x', '-t', '1.5'])).toThrow(/-t: expected a timeout in ms/)
    expect(usage(['-s', key, '-m', 'x', '-t', '0'])).toThrow(/-t: expected a timeout in ms/)
    expect(usage(['-s', key, '-m', 'x', '-t', '3000000000'])).toThrow(
      /-t: expected a timeout in ms from 1 to 2147483647/,
    )
    expect(usage(['-s', key, '-m', 'x', '-d', '{}', '-f', 'a.json'])).toThrow(/not both/)
    expect(usage(['-s', key, '-m', 'x', '--bootstrap', 'nohost'])).toThrow(/--bootstrap: expected host:port/)
    expect(usage(['-s', key, '-m', 'x', '--bootstrap', 'h:70000'])).toThrow(/--bootstrap/)
    expect(usage(['-s', key, '-m'])).toThrow(/-m needs a value/)
    expect(usage(['-s', key, '-m', 'x', '--verbose'])).toThrow(/unknown option "--verbose"/)
  })

  it('takes the bounds of -t and --bootstrap ports, and ignores empty --bootstrap entries', () => {
    const base = ['-s', key, '-m', 'x']
    expect(parseCliArgs([...base, '-t', '2147483647']).timeoutMs).toBe(2_147_483_647)
    expect(parseCliArgs([...base, '-t', '1']).timeoutMs).toBe(1)
    expect(parseCliArgs([...base, '--bootstrap', 'h:65535,', '--bootstrap', 'h:1']).bootstrap).toEqual([
      { host: 'h', port: 65_535 },
      { host: 'h', port: 1 },
    ])
    expect(() => parseCliArgs([...base, '--bootstrap', 'h:0'])).toThrow(/--bootstrap: expected host:port, got "h:0"/)
  })

  it('needs nothing else with --help', () => {
    expect(parseCliArgs(['--help']).help).toBe(true)
  })
})

describe('dhtOptionsFor', () => {
  it('binds to loopback when every bootstrap node is on loopback', () => {
    expect(dhtOptionsFor([{ host: 'localhost', port: 5 }])).toEqual({
      bootstrap: [{ host: '127.0.0.1', port: 5 }],
      host: '127.0.0.1',
      firewalled: false,
    })
    expect(dhtOptionsFor([{ host: '10.0.0.1', port: 5 }])).toEqual({ bootstrap: [{ host: '10.0.0.1', port: 5 }] })
    expect(dhtOptionsFor([])).toEqual({})
  })

  it('keeps the default binding when any bootstrap node is off loopback', () => {
    // bound to 127.0.0.1, the client could not reach the remote node
    const mixed = [
      { host: '127.0.0.1', port: 5 },
      { host: '10.0.0.1', port: 6 },
    ]
    expect(dhtOptionsFor(mixed)).toEqual({ bootstrap: mixed })
  })
})
