import { describe, expect, test } from 'vitest'
import { chainEventId } from '../common/event-id.ts'
import { loadCosmosChains, resolveCosmosChain } from './config.ts'
import { normaliseCosmosTx } from './normalise/events.ts'
import { accountOf, decodeMessage, encodeMessage, smartQueryRequest } from './rpc/proto.ts'
import { txResultSchema } from './rpc/schemas.ts'
import { searchableHeight } from './source.ts'

/** Pure parts of the Cosmos family: the normaliser, the configuration and the protobuf helpers. */
const REGISTRY = 'wasm14hj2tavq8fpesdwxxcu44rty3hh90vhujrvcmstl4zr3txmfvw9s4hmalr'
const OTHER = 'wasm1suhgf5svhu4usrurvxzlgn54ksxmn8gljarjtxqnapv8kjnp4nrss5maay'
const ISSUER = 'wasm1cyyzpxplxdzkeea7kwsydadg87357qnahakaks'
const BLOCK = 'A'.repeat(64)
const context = { chain: 'cosmos:veridis-local-1', registry: REGISTRY, observedAt: 1_700_000_000_000 }

const tx = (events: unknown[], code = 0) =>
  txResultSchema.parse({ hash: 'b'.repeat(64), height: '12', index: 0, tx_result: { code, events } })
const wasmEvent = (type: string, attributes: Record<string, string>, contract = REGISTRY) => ({
  type,
  attributes: [
    { key: '_contract_address', value: contract, index: true },
    ...Object.entries(attributes).map(([key, value]) => ({ key, value, index: true })),
  ],
})

describe('Cosmos normaliser', () => {
  test('behavior: a nullifier use becomes a nullifier record with the committed envelope, its index in the tx', () => {
    const events = normaliseCosmosTx(
      context,
      tx([
        { type: 'tx', attributes: [{ key: 'fee', value: '' }] },
        wasmEvent('wasm-veridis_nullifier_used', {
          scope: '7',
          nullifier: '99',
          merkle_tree_root: '0',
          by: ISSUER,
        }),
      ]),
      BLOCK,
      'FINALIZED',
    )
    expect(events).toHaveLength(1)
    expect(events[0]).toEqual({
      topic: 'nullifier',
      value: {
        envelope: {
          eventId: chainEventId({
            chain: context.chain,
            blockHash: BLOCK,
            txHash: 'B'.repeat(64),
            logIndex: 1,
          }),
          chain: context.chain,
          blockNumber: 12,
          blockHash: BLOCK,
          txHash: 'B'.repeat(64),
          logIndex: 1,
          emitter: REGISTRY,
          finality: 'FINALIZED',
          observedAt: context.observedAt,
        },
        registry: REGISTRY,
        scope: '7',
        nullifier: '99',
        merkleTreeRoot: null,
        source: 'PROOF',
        originChain: null,
        proof: null,
        publicSignals: [],
        message: null,
      },
    })
  })

  test('behavior: relayed uses carry their origin; attestations map to their change records', () => {
    const events = normaliseCosmosTx(
      context,
      tx([
        wasmEvent('wasm-veridis_nullifier_relayed', {
          scope: '7',
          nullifier: '100',
          merkle_tree_root: '3',
          by: ISSUER,
          origin_chain: 'eip155:1',
        }),
        wasmEvent('wasm-veridis_attestation_issued', { attestation_id: '5', issuer: ISSUER, root: '8' }),
        wasmEvent('wasm-veridis_attestation_root_updated', { issuer: ISSUER, previous_root: '0', root: '9' }),
      ]),
      BLOCK,
      'FINALIZED',
    )
    expect(events.map((event) => event.topic)).toEqual(['nullifier', 'attestation', 'attestation'])
    expect(events[0]!.value).toMatchObject({
      source: 'RELAYER',
      originChain: 'eip155:1',
      merkleTreeRoot: '3',
    })
    expect(events[1]!.value).toMatchObject({
      change: {
        'io.veridis.chain.AttestationIssued': {
          attestationId: '5',
          issuer: ISSUER,
          root: '8',
          schemaId: null,
        },
      },
    })
    expect(events[2]!.value).toMatchObject({
      change: { 'io.veridis.chain.AttestationRootUpdated': { previousRoot: null, root: '9' } },
    })
  })

  test('behavior: events of other contracts and failed transactions are ignored; malformed ones fail loudly', () => {
    const other = wasmEvent(
      'wasm-veridis_nullifier_used',
      { scope: '1', nullifier: '2', merkle_tree_root: '0', by: ISSUER },
      OTHER,
    )
    expect(normaliseCosmosTx(context, tx([other]), BLOCK, 'FINALIZED')).toEqual([])
    const ours = wasmEvent('wasm-veridis_nullifier_used', {
      scope: '1',
      nullifier: '2',
      merkle_tree_root: '0',
      by: ISSUER,
    })
    expect(normaliseCosmosTx(context, tx([ours], 5), BLOCK, 'FINALIZED')).toEqual([])
    const bad = wasmEvent('wasm-veridis_nullifier_used', {
      scope: '0x1',
      nullifier: '2',
      merkle_tree_root: '0',
      by: ISSUER,
    })
    expect(() => normaliseCosmosTx(context, tx([bad]), BLOCK, 'FINALIZED')).toThrow(/scope is not a decimal/)
    const big = wasmEvent('wasm-veridis_nullifier_used', {
      scope: (2n ** 256n).toString(),
      nullifier: '2',
      merkle_tree_root: '0',
      by: ISSUER,
    })
    expect(() => normaliseCosmosTx(context, tx([big]), BLOCK, 'FINALIZED')).toThrow(/256-bit/)
  })

  test('behavior: the configuration needs RPC URLs and a registry, and names the variable without echoing URLs', () => {
    const hub = loadCosmosChains('/nonexistent', {}).get('cosmos:cosmoshub-4')!
    expect(resolveCosmosChain(hub)).toMatchObject({
      problem: expect.stringContaining('VERIDIS_COSMOS_RPC_URLS_COSMOSHUB_4'),
    })
    expect(() =>
      loadCosmosChains('/nonexistent', { VERIDIS_COSMOS_RPC_URLS_COSMOSHUB_4: 'ftp://secret.example/key' }),
    ).toThrow(/VERIDIS_COSMOS_RPC_URLS_COSMOSHUB_4: must be an http/)
    try {
      loadCosmosChains('/nonexistent', { VERIDIS_COSMOS_RPC_URLS_COSMOSHUB_4: 'ftp://secret.example/key' })
    } catch (error) {
      expect(String(error)).not.toContain('secret.example')
    }
    // A variable can only name a chain some source knows: its id cannot be read back from the name.
    expect(() =>
      loadCosmosChains('/nonexistent', { VERIDIS_COSMOS_WS_URL_OSMOSIS_1: 'wss://secret.example/key' }),
    ).toThrow(
      /VERIDIS_COSMOS_WS_URL_OSMOSIS_1: no configured Cosmos chain has the id OSMOSIS_1; add its entry to VERIDIS_COSMOS_CONFIG/,
    )
  })

  test('behavior: protobuf helpers round-trip what the chain reads', () => {
    const fields = decodeMessage(smartQueryRequest(REGISTRY, { is_used: { scope: '1', nullifier: '2' } }))
    expect(new TextDecoder().decode(fields.get(1)![0] as Uint8Array)).toBe(REGISTRY)
    const base = encodeMessage([
      [1, 'string', ISSUER],
      [3, 'varint', 7n],
      [4, 'varint', 300n],
    ])
    const any = encodeMessage([
      [1, 'string', '/cosmos.auth.v1beta1.BaseAccount'],
      [2, 'bytes', base],
    ])
    expect(accountOf(encodeMessage([[1, 'bytes', any]]))).toEqual({ accountNumber: 7n, sequence: 300n })
  })
})

describe('the searchable height (CometBFT indexes a block after committing it)', () => {
  /** A node whose tx index holds the whole of the blocks listed, and nothing of the others. */
  const index = (complete: Record<number, number>) => async (height: number) => complete[height] ?? 0
  const blocks = [
    { height: 7, txs: 2 },
    { height: 8, txs: 0 },
    { height: 9, txs: 1 },
    { height: 10, txs: 0 },
  ]

  test('behavior: every recent block with transactions indexed → the latest height', async () => {
    expect(await searchableHeight(10, blocks, index({ 7: 2, 9: 1 }))).toBe(10)
  })

  test('behavior: the newest block with transactions not indexed yet → the height below it', async () => {
    expect(await searchableHeight(10, blocks, index({ 7: 2 }))).toBe(8)
  })

  test('behavior: two blocks behind the indexer → below the older one, never between them', async () => {
    expect(await searchableHeight(10, blocks, index({}))).toBe(6)
  })

  test('behavior: blocks without transactions have nothing to miss', async () => {
    expect(await searchableHeight(10, [{ height: 10, txs: 0 }], index({}))).toBe(10)
  })
})
