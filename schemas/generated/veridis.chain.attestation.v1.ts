// Generated from schemas/*.avsc by `veridis schemas generate`. Do not edit.
/* eslint-disable @typescript-eslint/no-namespace */

export type AttestationEvent = IoVeridisChain.AttestationEvent;

export namespace IoVeridis {
    export const FinalitySchema = "{\"type\":\"enum\",\"name\":\"Finality\",\"namespace\":\"io.veridis\",\"doc\":\"Where a chain fact stands: PENDING at the head, SAFE after the chain's safe rule, FINALIZED after its finality rule, RETRACTED when its block left the canonical chain.\",\"symbols\":[\"PENDING\",\"SAFE\",\"FINALIZED\",\"RETRACTED\"]}";
    export const FinalityName = "io.veridis.Finality";
    /**
     * Where a chain fact stands: PENDING at the head, SAFE after the chain's safe rule, FINALIZED after its finality rule, RETRACTED when its block left the canonical chain.
     */
    export type Finality = "PENDING" | "SAFE" | "FINALIZED" | "RETRACTED";
    export const ChainEventEnvelopeSchema = "{\"type\":\"record\",\"name\":\"ChainEventEnvelope\",\"namespace\":\"io.veridis\",\"doc\":\"Where and when a chain fact was observed. Shared by every chain event so that downstream stages treat all chains alike.\",\"fields\":[{\"name\":\"eventId\",\"type\":\"string\",\"doc\":\"Deterministic id of the fact: sha256 over chain, block hash, tx hash and log index. The same fact always gets the same id; a re-emission after a reorg lands in another block and gets another id.\"},{\"name\":\"chain\",\"type\":\"string\",\"doc\":\"CAIP-2 chain id, e.g. eip155:1, starknet:SN_MAIN, cosmos:cosmoshub-4.\"},{\"name\":\"blockNumber\",\"type\":\"long\"},{\"name\":\"blockHash\",\"type\":\"string\"},{\"name\":\"txHash\",\"type\":\"string\"},{\"name\":\"logIndex\",\"type\":\"int\",\"doc\":\"Position of the event in its block (EVM log index, or the chain's own event index).\"},{\"name\":\"emitter\",\"type\":\"string\",\"doc\":\"Contract, program, module or pallet that emitted the event, in the chain's native address format.\"},{\"name\":\"finality\",\"type\":{\"type\":\"enum\",\"name\":\"Finality\",\"namespace\":\"io.veridis\",\"doc\":\"Where a chain fact stands: PENDING at the head, SAFE after the chain's safe rule, FINALIZED after its finality rule, RETRACTED when its block left the canonical chain.\",\"symbols\":[\"PENDING\",\"SAFE\",\"FINALIZED\",\"RETRACTED\"]}},{\"name\":\"observedAt\",\"type\":{\"type\":\"long\",\"logicalType\":\"timestamp-millis\"}}]}";
    export const ChainEventEnvelopeName = "io.veridis.ChainEventEnvelope";
    /**
     * Where and when a chain fact was observed. Shared by every chain event so that downstream stages treat all chains alike.
     */
    export interface ChainEventEnvelope {
        /**
         * Deterministic id of the fact: sha256 over chain, block hash, tx hash and log index. The same fact always gets the same id; a re-emission after a reorg lands in another block and gets another id.
         */
        eventId: string;
        /**
         * CAIP-2 chain id, e.g. eip155:1, starknet:SN_MAIN, cosmos:cosmoshub-4.
         */
        chain: string;
        blockNumber: number;
        blockHash: string;
        txHash: string;
        /**
         * Position of the event in its block (EVM log index, or the chain's own event index).
         */
        logIndex: number;
        /**
         * Contract, program, module or pallet that emitted the event, in the chain's native address format.
         */
        emitter: string;
        finality: IoVeridis.Finality;
        observedAt: number;
    }
}

export namespace IoVeridisChain {
    export const AttestationIssuedSchema = "{\"type\":\"record\",\"name\":\"AttestationIssued\",\"fields\":[{\"name\":\"attestationId\",\"type\":\"string\",\"doc\":\"Decimal field element or 0x hash, as the registry emits it.\"},{\"name\":\"issuer\",\"type\":\"string\"},{\"name\":\"root\",\"type\":\"string\",\"doc\":\"Attestation Merkle root (decimal field element) after the issue.\"},{\"name\":\"schemaId\",\"type\":[\"null\",\"string\"],\"default\":null}]}";
    export const AttestationIssuedName = "io.veridis.chain.AttestationIssued";
    export interface AttestationIssued {
        /**
         * Decimal field element or 0x hash, as the registry emits it.
         */
        attestationId: string;
        issuer: string;
        /**
         * Attestation Merkle root (decimal field element) after the issue.
         */
        root: string;
        /**
         * Default: null
         */
        schemaId: null | string;
    }
    export const AttestationRevokedSchema = "{\"type\":\"record\",\"name\":\"AttestationRevoked\",\"fields\":[{\"name\":\"attestationId\",\"type\":\"string\"},{\"name\":\"issuer\",\"type\":\"string\"},{\"name\":\"reason\",\"type\":[\"null\",\"string\"],\"default\":null}]}";
    export const AttestationRevokedName = "io.veridis.chain.AttestationRevoked";
    export interface AttestationRevoked {
        attestationId: string;
        issuer: string;
        /**
         * Default: null
         */
        reason: null | string;
    }
    export const AttestationRootUpdatedSchema = "{\"type\":\"record\",\"name\":\"AttestationRootUpdated\",\"fields\":[{\"name\":\"issuer\",\"type\":\"string\"},{\"name\":\"previousRoot\",\"type\":[\"null\",\"string\"],\"default\":null},{\"name\":\"root\",\"type\":\"string\"}]}";
    export const AttestationRootUpdatedName = "io.veridis.chain.AttestationRootUpdated";
    export interface AttestationRootUpdated {
        issuer: string;
        /**
         * Default: null
         */
        previousRoot: null | string;
        root: string;
    }
    export const AttestationEventSchema = "{\"type\":\"record\",\"name\":\"AttestationEvent\",\"namespace\":\"io.veridis.chain\",\"doc\":\"An attestation registry changed on some chain. Keyed by registry:attestationId (registry:root for root updates).\",\"fields\":[{\"name\":\"envelope\",\"type\":{\"type\":\"record\",\"name\":\"ChainEventEnvelope\",\"namespace\":\"io.veridis\",\"doc\":\"Where and when a chain fact was observed. Shared by every chain event so that downstream stages treat all chains alike.\",\"fields\":[{\"name\":\"eventId\",\"type\":\"string\",\"doc\":\"Deterministic id of the fact: sha256 over chain, block hash, tx hash and log index. The same fact always gets the same id; a re-emission after a reorg lands in another block and gets another id.\"},{\"name\":\"chain\",\"type\":\"string\",\"doc\":\"CAIP-2 chain id, e.g. eip155:1, starknet:SN_MAIN, cosmos:cosmoshub-4.\"},{\"name\":\"blockNumber\",\"type\":\"long\"},{\"name\":\"blockHash\",\"type\":\"string\"},{\"name\":\"txHash\",\"type\":\"string\"},{\"name\":\"logIndex\",\"type\":\"int\",\"doc\":\"Position of the event in its block (EVM log index, or the chain's own event index).\"},{\"name\":\"emitter\",\"type\":\"string\",\"doc\":\"Contract, program, module or pallet that emitted the event, in the chain's native address format.\"},{\"name\":\"finality\",\"type\":{\"type\":\"enum\",\"name\":\"Finality\",\"namespace\":\"io.veridis\",\"doc\":\"Where a chain fact stands: PENDING at the head, SAFE after the chain's safe rule, FINALIZED after its finality rule, RETRACTED when its block left the canonical chain.\",\"symbols\":[\"PENDING\",\"SAFE\",\"FINALIZED\",\"RETRACTED\"]}},{\"name\":\"observedAt\",\"type\":{\"type\":\"long\",\"logicalType\":\"timestamp-millis\"}}]}},{\"name\":\"registry\",\"type\":\"string\",\"doc\":\"Address of the attestation registry contract on its chain.\"},{\"name\":\"change\",\"type\":[{\"type\":\"record\",\"name\":\"AttestationIssued\",\"fields\":[{\"name\":\"attestationId\",\"type\":\"string\",\"doc\":\"Decimal field element or 0x hash, as the registry emits it.\"},{\"name\":\"issuer\",\"type\":\"string\"},{\"name\":\"root\",\"type\":\"string\",\"doc\":\"Attestation Merkle root (decimal field element) after the issue.\"},{\"name\":\"schemaId\",\"type\":[\"null\",\"string\"],\"default\":null}]},{\"type\":\"record\",\"name\":\"AttestationRevoked\",\"fields\":[{\"name\":\"attestationId\",\"type\":\"string\"},{\"name\":\"issuer\",\"type\":\"string\"},{\"name\":\"reason\",\"type\":[\"null\",\"string\"],\"default\":null}]},{\"type\":\"record\",\"name\":\"AttestationRootUpdated\",\"fields\":[{\"name\":\"issuer\",\"type\":\"string\"},{\"name\":\"previousRoot\",\"type\":[\"null\",\"string\"],\"default\":null},{\"name\":\"root\",\"type\":\"string\"}]}]}]}";
    export const AttestationEventName = "io.veridis.chain.AttestationEvent";
    /**
     * An attestation registry changed on some chain. Keyed by registry:attestationId (registry:root for root updates).
     */
    export interface AttestationEvent {
        envelope: IoVeridis.ChainEventEnvelope;
        /**
         * Address of the attestation registry contract on its chain.
         */
        registry: string;
        change: {
            "io.veridis.chain.AttestationIssued": IoVeridisChain.AttestationIssued;
            "io.veridis.chain.AttestationRevoked"?: never;
            "io.veridis.chain.AttestationRootUpdated"?: never;
        } | {
            "io.veridis.chain.AttestationIssued"?: never;
            "io.veridis.chain.AttestationRevoked": IoVeridisChain.AttestationRevoked;
            "io.veridis.chain.AttestationRootUpdated"?: never;
        } | {
            "io.veridis.chain.AttestationIssued"?: never;
            "io.veridis.chain.AttestationRevoked"?: never;
            "io.veridis.chain.AttestationRootUpdated": IoVeridisChain.AttestationRootUpdated;
        };
    }
}
