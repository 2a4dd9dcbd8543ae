import { describe, expect, it } from 'vitest'
import { GroupCommit } from './group-commit.ts'

describe('GroupCommit', () => {
  it('gathers writes requested during a flush into the next batch, in order', async () => {
    const batches: number[][] = []
    const commits = new GroupCommit<number>(async (operations) => {
      batches.push(operations)
      await new Promise((resolve) => setTimeout(resolve, 5))
    })
    await Promise.all([commits.write([1]), commits.write([2, 3]), commits.write([4])])
    expect(batches).toEqual([[1], [2, 3, 4]])
  })

  it('retries the requests of a failed batch one by one, so one bad request fails alone', async () => {
    const commits = new GroupCommit<number>(async (operations) => {
      await new Promise((resolve) => setTimeout(resolve, 1))
      if (operations.includes(-1)) throw new Error('bad operation')
    })
    const first = commits.write([0])
    const outcomes = await Promise.allSettled([commits.write([1]), commits.write([-1]), commits.write([2])])
    await first
    expect(outcomes.map((outcome) => outcome.status)).toEqual(['fulfilled', 'rejected', 'fulfilled'])
    await expect(commits.write([-1])).rejects.toThrow('bad operation')
    await expect(commits.write([3])).resolves.toBeUndefined()
  })
})
