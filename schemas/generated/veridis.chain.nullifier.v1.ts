// Generated from schemas/*.avsc by `veridis schemas generate`. Do not edit.
/* eslint-disable @typescript-eslint/no-namespace */

export type NullifierEvent = IoVeridisChain.NullifierEvent;

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
    export const Groth16ProofSchema = "{\"type\":\"record\",\"name\":\"Groth16Proof\",\"namespace\":\"io.veridis\",\"doc\":\"A Groth16 proof as snarkjs writes it: points as decimal field-element strings, affine coordinates plus the projective 1.\",\"fields\":[{\"name\":\"piA\",\"type\":{\"type\":\"array\",\"items\":\"string\"}},{\"name\":\"piB\",\"type\":{\"type\":\"array\",\"items\":{\"type\":\"array\",\"items\":\"string\"}}},{\"name\":\"piC\",\"type\":{\"type\":\"array\",\"items\":\"string\"}},{\"name\":\"protocol\",\"type\":\"string\",\"default\":\"groth16\"},{\"name\":\"curve\",\"type\":\"string\",\"default\":\"bn128\"}]}";
    export const Groth16ProofName = "io.veridis.Groth16Proof";
    /**
     * A Groth16 proof as snarkjs writes it: points as decimal field-element strings, affine coordinates plus the projective 1.
     */
    export interface Groth16Proof {
        piA: string[];
        piB: string[][];
        piC: string[];
        /**
         * Default: "groth16"
         */
        protocol: string;
        /**
         * Default: "bn128"
         */
        curve: string;
    }
}

export namespace IoVeridisChain {
    export const NullifierSourceSchema = "{\"type\":\"enum\",\"name\":\"NullifierSource\",\"doc\":\"PROOF: a verified proof used it on this chain. RELAYER: the propagation relayer copied a use from another chain.\",\"symbols\":[\"PROOF\",\"RELAYER\"]}";
    export const NullifierSourceName = "io.veridis.chain.NullifierSource";
    /**
     * PROOF: a verified proof used it on this chain. RELAYER: the propagation relayer copied a use from another chain.
     */
    export type NullifierSource = "PROOF" | "RELAYER";
    export const NullifierEventSchema = "{\"type\":\"record\",\"name\":\"NullifierEvent\",\"namespace\":\"io.veridis.chain\",\"doc\":\"A nullifier was recorded as used on some chain. Keyed by scope:nullifier so every use of one nullifier, from any chain, is ordered on one partition.\",\"fields\":[{\"name\":\"envelope\",\"type\":{\"type\":\"record\",\"name\":\"ChainEventEnvelope\",\"namespace\":\"io.veridis\",\"doc\":\"Where and when a chain fact was observed. Shared by every chain event so that downstream stages treat all chains alike.\",\"fields\":[{\"name\":\"eventId\",\"type\":\"string\",\"doc\":\"Deterministic id of the fact: sha256 over chain, block hash, tx hash and log index. The same fact always gets the same id; a re-emission after a reorg lands in another block and gets another id.\"},{\"name\":\"chain\",\"type\":\"string\",\"doc\":\"CAIP-2 chain id, e.g. eip155:1, starknet:SN_MAIN, cosmos:cosmoshub-4.\"},{\"name\":\"blockNumber\",\"type\":\"long\"},{\"name\":\"blockHash\",\"type\":\"string\"},{\"name\":\"txHash\",\"type\":\"string\"},{\"name\":\"logIndex\",\"type\":\"int\",\"doc\":\"Position of the event in its block (EVM log index, or the chain's own event index).\"},{\"name\":\"emitter\",\"type\":\"string\",\"doc\":\"Contract, program, module or pallet that emitted the event, in the chain's native address format.\"},{\"name\":\"finality\",\"type\":{\"type\":\"enum\",\"name\":\"Finality\",\"namespace\":\"io.veridis\",\"doc\":\"Where a chain fact stands: PENDING at the head, SAFE after the chain's safe rule, FINALIZED after its finality rule, RETRACTED when its block left the canonical chain.\",\"symbols\":[\"PENDING\",\"SAFE\",\"FINALIZED\",\"RETRACTED\"]}},{\"name\":\"observedAt\",\"type\":{\"type\":\"long\",\"logicalType\":\"timestamp-millis\"}}]}},{\"name\":\"registry\",\"type\":\"string\",\"doc\":\"Address of the nullifier registry on its chain.\"},{\"name\":\"scope\",\"type\":\"string\",\"doc\":\"Decimal field element; includes the application so nullifiers of different applications never collide.\"},{\"name\":\"nullifier\",\"type\":\"string\",\"doc\":\"Decimal field element.\"},{\"name\":\"merkleTreeRoot\",\"type\":[\"null\",\"string\"],\"default\":null},{\"name\":\"source\",\"type\":{\"type\":\"enum\",\"name\":\"NullifierSource\",\"doc\":\"PROOF: a verified proof used it on this chain. RELAYER: the propagation relayer copied a use from another chain.\",\"symbols\":[\"PROOF\",\"RELAYER\"]}},{\"name\":\"originChain\",\"type\":[\"null\",\"string\"],\"default\":null,\"doc\":\"For RELAYER writes, the CAIP-2 chain where the nullifier was first used.\"},{\"name\":\"proof\",\"type\":[\"null\",{\"type\":\"record\",\"name\":\"Groth16Proof\",\"namespace\":\"io.veridis\",\"doc\":\"A Groth16 proof as snarkjs writes it: points as decimal field-element strings, affine coordinates plus the projective 1.\",\"fields\":[{\"name\":\"piA\",\"type\":{\"type\":\"array\",\"items\":\"string\"}},{\"name\":\"piB\",\"type\":{\"type\":\"array\",\"items\":{\"type\":\"array\",\"items\":\"string\"}}},{\"name\":\"piC\",\"type\":{\"type\":\"array\",\"items\":\"string\"}},{\"name\":\"protocol\",\"type\":\"string\",\"default\":\"groth16\"},{\"name\":\"curve\",\"type\":\"string\",\"default\":\"bn128\"}]}],\"default\":null,\"doc\":\"The Semaphore v4 (IDENTITY_MEMBERSHIP) proof the chain event carries, when the use came with one (EVM: NullifierUsedWithProof), so verifiers can check the use without trusting the chain.\"},{\"name\":\"publicSignals\",\"type\":{\"type\":\"array\",\"items\":\"string\"},\"default\":[],\"doc\":\"The proof's public signals as the chain verified them: merkleTreeRoot, nullifier, hash(message), hash(scope) (Semaphore's keccak256(bytes32(x)) >> 8). Empty without a proof.\"},{\"name\":\"message\",\"type\":[\"null\",\"string\"],\"default\":null,\"doc\":\"The Semaphore message (decimal uint256, before hashing) the proof binds; null without a proof.\"}]}";
    export const NullifierEventName = "io.veridis.chain.NullifierEvent";
    /**
     * A nullifier was recorded as used on some chain. Keyed by scope:nullifier so every use of one nullifier, from any chain, is ordered on one partition.
     */
    export interface NullifierEvent {
        envelope: IoVeridis.ChainEventEnvelope;
        /**
         * Address of the nullifier registry on its chain.
         */
        registry: string;
        /**
         * Decimal field element; includes the application so nullifiers of different applications never collide.
         */
        scope: string;
        /**
         * Decimal field element.
         */
        nullifier: string;
        /**
         * Default: null
         */
        merkleTreeRoot: null | string;
        source: IoVeridisChain.NullifierSource;
        /**
         * For RELAYER writes, the CAIP-2 chain where the nullifier was first used.
         *
         * Default: null
         */
        originChain: null | string;
        /**
         * The Semaphore v4 (IDENTITY_MEMBERSHIP) proof the chain event carries, when the use came with one (EVM: NullifierUsedWithProof), so verifiers can check the use without trusting the chain.
         *
         * Default: null
         */
        proof: null | IoVeridis.Groth16Proof;
        /**
         * The proof's public signals as the chain verified them: merkleTreeRoot, nullifier, hash(message), hash(scope) (Semaphore's keccak256(bytes32(x)) >> 8). Empty without a proof.
         *
         * Default: []
         */
        publicSignals: string[];
        /**
         * The Semaphore message (decimal uint256, before hashing) the proof binds; null without a proof.
         *
         * Default: null
         */
        message: null | string;
    }
}
