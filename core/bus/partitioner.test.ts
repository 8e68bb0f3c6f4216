import { randomBytes } from 'node:crypto'
import kafkajs from 'kafkajs'
import { describe, expect, test } from 'vitest'
import { murmur2, partitionForKey } from './partitioner.ts'

const { Partitioners } = kafkajs

describe('partitioner', () => {
  test('behavior: same partition as kafkajs (and so the Java client) for every key length', () => {
    const reference = Partitioners.DefaultPartitioner()
    for (let length = 0; length < 200; length++) {
      for (const partitions of [1, 3, 7, 64]) {
        const key = randomBytes(length)
        const partitionMetadata = Array.from({ length: partitions }, (_, partitionId) => ({
          partitionId,
          leader: 0,
        }))
        expect(partitionForKey(key, partitions)).toBe(
          reference({
            topic: 't',
            partitionMetadata: partitionMetadata as never,
            message: { key, value: null },
          }),
        )
      }
    }
  })

  test('behavior: known vectors from the Java client', () => {
    // org.apache.kafka.common.utils.UtilsTest#testMurmur2
    const vectors: [string, number][] = [
      ['21', -973932308],
      ['foobar', -790332482],
      ['a-little-bit-long-string', -985981536],
      ['a-little-bit-longer-string', -1486304829],
      ['lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8', -58897971],
      ['abc', 479470107],
    ]
    for (const [key, hash] of vectors) expect(murmur2(Buffer.from(key))).toBe(hash)
  })
})
