// Generated from schemas/*.avsc by `veridis schemas generate`. Do not edit.
/* eslint-disable @typescript-eslint/no-namespace */

export type BridgeEvent = IoVeridisChain.BridgeEvent;

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
    export const LockModeSchema = "{\"type\":\"enum\",\"name\":\"LockMode\",\"symbols\":[\"LOCK\",\"BURN\"]}";
    export const LockModeName = "io.veridis.chain.LockMode";
    export type LockMode = "LOCK" | "BURN";
    export const TokenTransferSchema = "{\"type\":\"record\",\"name\":\"TokenTransfer\",\"doc\":\"An ERC-20 style Transfer log in the same transaction that moved value into or out of the gateway.\",\"fields\":[{\"name\":\"token\",\"type\":\"string\",\"doc\":\"Contract that emitted the Transfer.\"},{\"name\":\"from\",\"type\":\"string\"},{\"name\":\"to\",\"type\":\"string\"},{\"name\":\"amount\",\"type\":\"string\"},{\"name\":\"logIndex\",\"type\":\"int\"}]}";
    export const TokenTransferName = "io.veridis.chain.TokenTransfer";
    /**
     * An ERC-20 style Transfer log in the same transaction that moved value into or out of the gateway.
     */
    export interface TokenTransfer {
        /**
         * Contract that emitted the Transfer.
         */
        token: string;
        from: string;
        to: string;
        amount: string;
        logIndex: number;
    }
    export const BridgeLockedSchema = "{\"type\":\"record\",\"name\":\"BridgeLocked\",\"doc\":\"Value locked (or burned) on the source chain for release on the destination chain.\",\"fields\":[{\"name\":\"mode\",\"type\":{\"type\":\"enum\",\"name\":\"LockMode\",\"symbols\":[\"LOCK\",\"BURN\"]}},{\"name\":\"sender\",\"type\":\"string\"},{\"name\":\"recipient\",\"type\":\"string\"},{\"name\":\"token\",\"type\":\"string\"},{\"name\":\"amount\",\"type\":\"string\",\"doc\":\"Unsigned integer as a decimal string (uint256 does not fit an Avro long).\"},{\"name\":\"destinationChain\",\"type\":\"string\",\"doc\":\"CAIP-2.\"},{\"name\":\"nonce\",\"type\":\"string\"},{\"name\":\"transfers\",\"type\":{\"type\":\"array\",\"items\":{\"type\":\"record\",\"name\":\"TokenTransfer\",\"doc\":\"An ERC-20 style Transfer log in the same transaction that moved value into or out of the gateway.\",\"fields\":[{\"name\":\"token\",\"type\":\"string\",\"doc\":\"Contract that emitted the Transfer.\"},{\"name\":\"from\",\"type\":\"string\"},{\"name\":\"to\",\"type\":\"string\"},{\"name\":\"amount\",\"type\":\"string\"},{\"name\":\"logIndex\",\"type\":\"int\"}]}},\"default\":[],\"doc\":\"Value that entered (or left) the gateway in the lock's transaction, so a lock with no value behind it is visible (Wormhole's Transfer Verifier rule).\"}]}";
    export const BridgeLockedName = "io.veridis.chain.BridgeLocked";
    /**
     * Value locked (or burned) on the source chain for release on the destination chain.
     */
    export interface BridgeLocked {
        mode: IoVeridisChain.LockMode;
        sender: string;
        recipient: string;
        token: string;
        /**
         * Unsigned integer as a decimal string (uint256 does not fit an Avro long).
         */
        amount: string;
        /**
         * CAIP-2.
         */
        destinationChain: string;
        nonce: string;
        /**
         * Value that entered (or left) the gateway in the lock's transaction, so a lock with no value behind it is visible (Wormhole's Transfer Verifier rule).
         *
         * Default: []
         */
        transfers: IoVeridisChain.TokenTransfer[];
    }
    export const ReleaseModeSchema = "{\"type\":\"enum\",\"name\":\"ReleaseMode\",\"symbols\":[\"MINT\",\"UNLOCK\"]}";
    export const ReleaseModeName = "io.veridis.chain.ReleaseMode";
    export type ReleaseMode = "MINT" | "UNLOCK";
    export const BridgeReleasedSchema = "{\"type\":\"record\",\"name\":\"BridgeReleased\",\"doc\":\"Value minted (or unlocked) on the destination chain against a guardian quorum.\",\"fields\":[{\"name\":\"mode\",\"type\":{\"type\":\"enum\",\"name\":\"ReleaseMode\",\"symbols\":[\"MINT\",\"UNLOCK\"]}},{\"name\":\"recipient\",\"type\":\"string\"},{\"name\":\"token\",\"type\":\"string\"},{\"name\":\"amount\",\"type\":\"string\"},{\"name\":\"sourceChain\",\"type\":\"string\",\"doc\":\"CAIP-2.\"},{\"name\":\"nonce\",\"type\":\"string\"},{\"name\":\"signers\",\"type\":{\"type\":\"array\",\"items\":\"string\"},\"doc\":\"Guardian addresses whose signatures were accepted.\"},{\"name\":\"threshold\",\"type\":\"int\",\"doc\":\"Quorum the gateway required at release time.\"},{\"name\":\"proofRoot\",\"type\":[\"null\",\"string\"],\"default\":null,\"doc\":\"Root the message was proven against, for root-based (optimistic) gateways; null for guardian-signed releases.\"}]}";
    export const BridgeReleasedName = "io.veridis.chain.BridgeReleased";
    /**
     * Value minted (or unlocked) on the destination chain against a guardian quorum.
     */
    export interface BridgeReleased {
        mode: IoVeridisChain.ReleaseMode;
        recipient: string;
        token: string;
        amount: string;
        /**
         * CAIP-2.
         */
        sourceChain: string;
        nonce: string;
        /**
         * Guardian addresses whose signatures were accepted.
         */
        signers: string[];
        /**
         * Quorum the gateway required at release time.
         */
        threshold: number;
        /**
         * Root the message was proven against, for root-based (optimistic) gateways; null for guardian-signed releases.
         *
         * Default: null
         */
        proofRoot: null | string;
    }
    export const GuardianSetChangedSchema = "{\"type\":\"record\",\"name\":\"GuardianSetChanged\",\"fields\":[{\"name\":\"guardians\",\"type\":{\"type\":\"array\",\"items\":\"string\"}},{\"name\":\"threshold\",\"type\":\"int\"},{\"name\":\"setIndex\",\"type\":\"long\"}]}";
    export const GuardianSetChangedName = "io.veridis.chain.GuardianSetChanged";
    export interface GuardianSetChanged {
        guardians: string[];
        threshold: number;
        setIndex: number;
    }
    export const ThresholdChangedSchema = "{\"type\":\"record\",\"name\":\"ThresholdChanged\",\"fields\":[{\"name\":\"previousThreshold\",\"type\":\"int\"},{\"name\":\"threshold\",\"type\":\"int\"}]}";
    export const ThresholdChangedName = "io.veridis.chain.ThresholdChanged";
    export interface ThresholdChanged {
        previousThreshold: number;
        threshold: number;
    }
    export const PauseChangedSchema = "{\"type\":\"record\",\"name\":\"PauseChanged\",\"fields\":[{\"name\":\"paused\",\"type\":\"boolean\"},{\"name\":\"by\",\"type\":\"string\"}]}";
    export const PauseChangedName = "io.veridis.chain.PauseChanged";
    export interface PauseChanged {
        paused: boolean;
        by: string;
    }
    export const AdminChangedSchema = "{\"type\":\"record\",\"name\":\"AdminChanged\",\"fields\":[{\"name\":\"previousAdmin\",\"type\":\"string\"},{\"name\":\"admin\",\"type\":\"string\"}]}";
    export const AdminChangedName = "io.veridis.chain.AdminChanged";
    export interface AdminChanged {
        previousAdmin: string;
        admin: string;
    }
    export const BridgeEventSchema = "{\"type\":\"record\",\"name\":\"BridgeEvent\",\"namespace\":\"io.veridis.chain\",\"doc\":\"A bridge gateway did something. Keyed by messageId so a lock and its release meet on one partition; administrative changes use gateway:<address>.\",\"fields\":[{\"name\":\"envelope\",\"type\":{\"type\":\"record\",\"name\":\"ChainEventEnvelope\",\"namespace\":\"io.veridis\",\"doc\":\"Where and when a chain fact was observed. Shared by every chain event so that downstream stages treat all chains alike.\",\"fields\":[{\"name\":\"eventId\",\"type\":\"string\",\"doc\":\"Deterministic id of the fact: sha256 over chain, block hash, tx hash and log index. The same fact always gets the same id; a re-emission after a reorg lands in another block and gets another id.\"},{\"name\":\"chain\",\"type\":\"string\",\"doc\":\"CAIP-2 chain id, e.g. eip155:1, starknet:SN_MAIN, cosmos:cosmoshub-4.\"},{\"name\":\"blockNumber\",\"type\":\"long\"},{\"name\":\"blockHash\",\"type\":\"string\"},{\"name\":\"txHash\",\"type\":\"string\"},{\"name\":\"logIndex\",\"type\":\"int\",\"doc\":\"Position of the event in its block (EVM log index, or the chain's own event index).\"},{\"name\":\"emitter\",\"type\":\"string\",\"doc\":\"Contract, program, module or pallet that emitted the event, in the chain's native address format.\"},{\"name\":\"finality\",\"type\":{\"type\":\"enum\",\"name\":\"Finality\",\"namespace\":\"io.veridis\",\"doc\":\"Where a chain fact stands: PENDING at the head, SAFE after the chain's safe rule, FINALIZED after its finality rule, RETRACTED when its block left the canonical chain.\",\"symbols\":[\"PENDING\",\"SAFE\",\"FINALIZED\",\"RETRACTED\"]}},{\"name\":\"observedAt\",\"type\":{\"type\":\"long\",\"logicalType\":\"timestamp-millis\"}}]}},{\"name\":\"gateway\",\"type\":\"string\",\"doc\":\"Address of the bridge gateway contract on its chain.\"},{\"name\":\"messageId\",\"type\":[\"null\",\"string\"],\"default\":null,\"doc\":\"Cross-chain message id (0x hash of the domain-separated message) for transfers; null for administrative changes.\"},{\"name\":\"action\",\"type\":[{\"type\":\"record\",\"name\":\"BridgeLocked\",\"doc\":\"Value locked (or burned) on the source chain for release on the destination chain.\",\"fields\":[{\"name\":\"mode\",\"type\":{\"type\":\"enum\",\"name\":\"LockMode\",\"symbols\":[\"LOCK\",\"BURN\"]}},{\"name\":\"sender\",\"type\":\"string\"},{\"name\":\"recipient\",\"type\":\"string\"},{\"name\":\"token\",\"type\":\"string\"},{\"name\":\"amount\",\"type\":\"string\",\"doc\":\"Unsigned integer as a decimal string (uint256 does not fit an Avro long).\"},{\"name\":\"destinationChain\",\"type\":\"string\",\"doc\":\"CAIP-2.\"},{\"name\":\"nonce\",\"type\":\"string\"},{\"name\":\"transfers\",\"type\":{\"type\":\"array\",\"items\":{\"type\":\"record\",\"name\":\"TokenTransfer\",\"doc\":\"An ERC-20 style Transfer log in the same transaction that moved value into or out of the gateway.\",\"fields\":[{\"name\":\"token\",\"type\":\"string\",\"doc\":\"Contract that emitted the Transfer.\"},{\"name\":\"from\",\"type\":\"string\"},{\"name\":\"to\",\"type\":\"string\"},{\"name\":\"amount\",\"type\":\"string\"},{\"name\":\"logIndex\",\"type\":\"int\"}]}},\"default\":[],\"doc\":\"Value that entered (or left) the gateway in the lock's transaction, so a lock with no value behind it is visible (Wormhole's Transfer Verifier rule).\"}]},{\"type\":\"record\",\"name\":\"BridgeReleased\",\"doc\":\"Value minted (or unlocked) on the destination chain against a guardian quorum.\",\"fields\":[{\"name\":\"mode\",\"type\":{\"type\":\"enum\",\"name\":\"ReleaseMode\",\"symbols\":[\"MINT\",\"UNLOCK\"]}},{\"name\":\"recipient\",\"type\":\"string\"},{\"name\":\"token\",\"type\":\"string\"},{\"name\":\"amount\",\"type\":\"string\"},{\"name\":\"sourceChain\",\"type\":\"string\",\"doc\":\"CAIP-2.\"},{\"name\":\"nonce\",\"type\":\"string\"},{\"name\":\"signers\",\"type\":{\"type\":\"array\",\"items\":\"string\"},\"doc\":\"Guardian addresses whose signatures were accepted.\"},{\"name\":\"threshold\",\"type\":\"int\",\"doc\":\"Quorum the gateway required at release time.\"},{\"name\":\"proofRoot\",\"type\":[\"null\",\"string\"],\"default\":null,\"doc\":\"Root the message was proven against, for root-based (optimistic) gateways; null for guardian-signed releases.\"}]},{\"type\":\"record\",\"name\":\"GuardianSetChanged\",\"fields\":[{\"name\":\"guardians\",\"type\":{\"type\":\"array\",\"items\":\"string\"}},{\"name\":\"threshold\",\"type\":\"int\"},{\"name\":\"setIndex\",\"type\":\"long\"}]},{\"type\":\"record\",\"name\":\"ThresholdChanged\",\"fields\":[{\"name\":\"previousThreshold\",\"type\":\"int\"},{\"name\":\"threshold\",\"type\":\"int\"}]},{\"type\":\"record\",\"name\":\"PauseChanged\",\"fields\":[{\"name\":\"paused\",\"type\":\"boolean\"},{\"name\":\"by\",\"type\":\"string\"}]},{\"type\":\"record\",\"name\":\"AdminChanged\",\"fields\":[{\"name\":\"previousAdmin\",\"type\":\"string\"},{\"name\":\"admin\",\"type\":\"string\"}]}]}]}";
    export const BridgeEventName = "io.veridis.chain.BridgeEvent";
    /**
     * A bridge gateway did something. Keyed by messageId so a lock and its release meet on one partition; administrative changes use gateway:<address>.
     */
    export interface BridgeEvent {
        envelope: IoVeridis.ChainEventEnvelope;
        /**
         * Address of the bridge gateway contract on its chain.
         */
        gateway: string;
        /**
         * Cross-chain message id (0x hash of the domain-separated message) for transfers; null for administrative changes.
         *
         * Default: null
         */
        messageId: null | string;
        action: {
            "io.veridis.chain.BridgeLocked": IoVeridisChain.BridgeLocked;
            "io.veridis.chain.BridgeReleased"?: never;
            "io.veridis.chain.GuardianSetChanged"?: never;
            "io.veridis.chain.ThresholdChanged"?: never;
            "io.veridis.chain.PauseChanged"?: never;
            "io.veridis.chain.AdminChanged"?: never;
        } | {
            "io.veridis.chain.BridgeLocked"?: never;
            "io.veridis.chain.BridgeReleased": IoVeridisChain.BridgeReleased;
            "io.veridis.chain.GuardianSetChanged"?: never;
            "io.veridis.chain.ThresholdChanged"?: never;
            "io.veridis.chain.PauseChanged"?: never;
            "io.veridis.chain.AdminChanged"?: never;
        } | {
            "io.veridis.chain.BridgeLocked"?: never;
            "io.veridis.chain.BridgeReleased"?: never;
            "io.veridis.chain.GuardianSetChanged": IoVeridisChain.GuardianSetChanged;
            "io.veridis.chain.ThresholdChanged"?: never;
            "io.veridis.chain.PauseChanged"?: never;
            "io.veridis.chain.AdminChanged"?: never;
        } | {
            "io.veridis.chain.BridgeLocked"?: never;
            "io.veridis.chain.BridgeReleased"?: never;
            "io.veridis.chain.GuardianSetChanged"?: never;
            "io.veridis.chain.ThresholdChanged": IoVeridisChain.ThresholdChanged;
            "io.veridis.chain.PauseChanged"?: never;
            "io.veridis.chain.AdminChanged"?: never;
        } | {
            "io.veridis.chain.BridgeLocked"?: never;
            "io.veridis.chain.BridgeReleased"?: never;
            "io.veridis.chain.GuardianSetChanged"?: never;
            "io.veridis.chain.ThresholdChanged"?: never;
            "io.veridis.chain.PauseChanged": IoVeridisChain.PauseChanged;
            "io.veridis.chain.AdminChanged"?: never;
        } | {
            "io.veridis.chain.BridgeLocked"?: never;
            "io.veridis.chain.BridgeReleased"?: never;
            "io.veridis.chain.GuardianSetChanged"?: never;
            "io.veridis.chain.ThresholdChanged"?: never;
            "io.veridis.chain.PauseChanged"?: never;
            "io.veridis.chain.AdminChanged": IoVeridisChain.AdminChanged;
        };
    }
}
