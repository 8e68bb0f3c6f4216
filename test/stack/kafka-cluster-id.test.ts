import { describe, expect, test } from 'vitest'
import { newKafkaClusterId } from '../../infra/stack/kafka.ts'

describe('KRaft cluster id', () => {
  test("behavior: 16 random bytes in base64url, never starting with '-' (kafka-storage would read it as an option)", () => {
    // One plain base64url id in 64 starts with '-': 10,000 draws would show ~156 of them.
    const ids = Array.from({ length: 10_000 }, () => newKafkaClusterId())
    for (const id of ids) {
      expect(id).toMatch(/^[A-Za-z0-9_][A-Za-z0-9_-]{21}$/)
      expect(Buffer.from(id, 'base64url')).toHaveLength(16)
    }
    expect(new Set(ids).size).toBe(ids.length)
  })
})
