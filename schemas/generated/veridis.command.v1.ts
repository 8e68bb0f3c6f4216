// Generated from schemas/*.avsc by `veridis schemas generate`. Do not edit.
/* eslint-disable @typescript-eslint/no-namespace */

export type Command = IoVeridisCommand.Command;

export namespace IoVeridis {
    export const ActorKindSchema = "{\"type\":\"enum\",\"name\":\"ActorKind\",\"symbols\":[\"USER\",\"API_KEY\",\"SERVICE\",\"UPSTREAM\"]}";
    export const ActorKindName = "io.veridis.ActorKind";
    export type ActorKind = "USER" | "API_KEY" | "SERVICE" | "UPSTREAM";
    export const ActorSchema = "{\"type\":\"record\",\"name\":\"Actor\",\"namespace\":\"io.veridis\",\"doc\":\"Who caused something: an authenticated caller of the gateway, an upstream system writing to the bus directly, or a pipeline service.\",\"fields\":[{\"name\":\"kind\",\"type\":{\"type\":\"enum\",\"name\":\"ActorKind\",\"symbols\":[\"USER\",\"API_KEY\",\"SERVICE\",\"UPSTREAM\"]}},{\"name\":\"id\",\"type\":\"string\",\"doc\":\"Stable, non-secret identifier: JWT subject, API key id (never the key), service name.\"}]}";
    export const ActorName = "io.veridis.Actor";
    /**
     * Who caused something: an authenticated caller of the gateway, an upstream system writing to the bus directly, or a pipeline service.
     */
    export interface Actor {
        kind: IoVeridis.ActorKind;
        /**
         * Stable, non-secret identifier: JWT subject, API key id (never the key), service name.
         */
        id: string;
    }
    export const CircuitSchema = "{\"type\":\"enum\",\"name\":\"Circuit\",\"namespace\":\"io.veridis\",\"doc\":\"The circuits the protocol proves and verifies.\",\"symbols\":[\"IDENTITY_MEMBERSHIP\",\"ATTESTATION_DISCLOSURE\",\"ERASURE\"]}";
    export const CircuitName = "io.veridis.Circuit";
    /**
     * The circuits the protocol proves and verifies.
     */
    export type Circuit = "IDENTITY_MEMBERSHIP" | "ATTESTATION_DISCLOSURE" | "ERASURE";
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

export namespace IoVeridisCommand {
    export const ProveCommandSchema = "{\"type\":\"record\",\"name\":\"ProveCommand\",\"doc\":\"Generate a Groth16 proof. Inputs are circuit signals by name, each flattened to decimal field elements (a scalar is a one-element array).\",\"fields\":[{\"name\":\"circuit\",\"type\":{\"type\":\"enum\",\"name\":\"Circuit\",\"namespace\":\"io.veridis\",\"doc\":\"The circuits the protocol proves and verifies.\",\"symbols\":[\"IDENTITY_MEMBERSHIP\",\"ATTESTATION_DISCLOSURE\",\"ERASURE\"]}},{\"name\":\"inputs\",\"type\":{\"type\":\"map\",\"values\":{\"type\":\"array\",\"items\":\"string\"}},\"doc\":\"Signal name to its values. On the topic each signal is sealed to the prover's X25519 key as one string vprv1.<ephemeralPublicKey>.<iv>.<ciphertext> (docs/zk.md, Sealed inputs); the HTTP gateway seals what its callers send. Plain text on the topic is refused.\"}]}";
    export const ProveCommandName = "io.veridis.command.ProveCommand";
    /**
     * Generate a Groth16 proof. Inputs are circuit signals by name, each flattened to decimal field elements (a scalar is a one-element array).
     */
    export interface ProveCommand {
        circuit: IoVeridis.Circuit;
        /**
         * Signal name to its values. On the topic each signal is sealed to the prover's X25519 key as one string vprv1.<ephemeralPublicKey>.<iv>.<ciphertext> (docs/zk.md, Sealed inputs); the HTTP gateway seals what its callers send. Plain text on the topic is refused.
         */
        inputs: {
            [index: string]: string[];
        };
    }
    export const VerifyCommandSchema = "{\"type\":\"record\",\"name\":\"VerifyCommand\",\"fields\":[{\"name\":\"circuit\",\"type\":\"io.veridis.Circuit\"},{\"name\":\"proof\",\"type\":{\"type\":\"record\",\"name\":\"Groth16Proof\",\"namespace\":\"io.veridis\",\"doc\":\"A Groth16 proof as snarkjs writes it: points as decimal field-element strings, affine coordinates plus the projective 1.\",\"fields\":[{\"name\":\"piA\",\"type\":{\"type\":\"array\",\"items\":\"string\"}},{\"name\":\"piB\",\"type\":{\"type\":\"array\",\"items\":{\"type\":\"array\",\"items\":\"string\"}}},{\"name\":\"piC\",\"type\":{\"type\":\"array\",\"items\":\"string\"}},{\"name\":\"protocol\",\"type\":\"string\",\"default\":\"groth16\"},{\"name\":\"curve\",\"type\":\"string\",\"default\":\"bn128\"}]}},{\"name\":\"publicSignals\",\"type\":{\"type\":\"array\",\"items\":\"string\"}},{\"name\":\"expectedChain\",\"type\":[\"null\",\"string\"],\"default\":null,\"doc\":\"When set, the public root/scope must match what this CAIP-2 chain has published.\"}]}";
    export const VerifyCommandName = "io.veridis.command.VerifyCommand";
    export interface VerifyCommand {
        circuit: IoVeridis.Circuit;
        proof: IoVeridis.Groth16Proof;
        publicSignals: string[];
        /**
         * When set, the public root/scope must match what this CAIP-2 chain has published.
         *
         * Default: null
         */
        expectedChain: null | string;
    }
    export const RegisterAttestationCommandSchema = "{\"type\":\"record\",\"name\":\"RegisterAttestationCommand\",\"fields\":[{\"name\":\"chain\",\"type\":\"string\",\"doc\":\"CAIP-2.\"},{\"name\":\"registry\",\"type\":\"string\"},{\"name\":\"attestationId\",\"type\":\"string\"},{\"name\":\"root\",\"type\":\"string\",\"doc\":\"Decimal field element.\"},{\"name\":\"subjectId\",\"type\":[\"null\",\"string\"],\"default\":null,\"doc\":\"The data subject. On the topic sealed under the subject's data key as vsub1.<keyId>.<iv>.<ciphertext> (docs/audit.md, Sealed fields); the HTTP gateway seals what its callers send. Plain text on the topic is refused. Stored encrypted, audited as a keyed hash.\"}]}";
    export const RegisterAttestationCommandName = "io.veridis.command.RegisterAttestationCommand";
    export interface RegisterAttestationCommand {
        /**
         * CAIP-2.
         */
        chain: string;
        registry: string;
        attestationId: string;
        /**
         * Decimal field element.
         */
        root: string;
        /**
         * The data subject. On the topic sealed under the subject's data key as vsub1.<keyId>.<iv>.<ciphertext> (docs/audit.md, Sealed fields); the HTTP gateway seals what its callers send. Plain text on the topic is refused. Stored encrypted, audited as a keyed hash.
         *
         * Default: null
         */
        subjectId: null | string;
    }
    export const PropagateNullifierCommandSchema = "{\"type\":\"record\",\"name\":\"PropagateNullifierCommand\",\"fields\":[{\"name\":\"scope\",\"type\":\"string\"},{\"name\":\"nullifier\",\"type\":\"string\"},{\"name\":\"sourceChain\",\"type\":\"string\"},{\"name\":\"targetChains\",\"type\":{\"type\":\"array\",\"items\":\"string\"},\"doc\":\"CAIP-2 ids; empty means every connected chain but the source.\"}]}";
    export const PropagateNullifierCommandName = "io.veridis.command.PropagateNullifierCommand";
    export interface PropagateNullifierCommand {
        scope: string;
        nullifier: string;
        sourceChain: string;
        /**
         * CAIP-2 ids; empty means every connected chain but the source.
         */
        targetChains: string[];
    }
    export const RequestErasureCommandSchema = "{\"type\":\"record\",\"name\":\"RequestErasureCommand\",\"fields\":[{\"name\":\"subjectId\",\"type\":\"string\",\"doc\":\"On the topic sealed under the subject's data key as vsub1.<keyId>.<iv>.<ciphertext> (docs/audit.md, Sealed fields); the HTTP gateway seals what its callers send. Plain text on the topic is refused.\"},{\"name\":\"reason\",\"type\":[\"null\",\"string\"],\"default\":null,\"doc\":\"Free text; on the topic sealed like subjectId under the same key. Never kept.\"}]}";
    export const RequestErasureCommandName = "io.veridis.command.RequestErasureCommand";
    export interface RequestErasureCommand {
        /**
         * On the topic sealed under the subject's data key as vsub1.<keyId>.<iv>.<ciphertext> (docs/audit.md, Sealed fields); the HTTP gateway seals what its callers send. Plain text on the topic is refused.
         */
        subjectId: string;
        /**
         * Free text; on the topic sealed like subjectId under the same key. Never kept.
         *
         * Default: null
         */
        reason: null | string;
    }
    export const AnalyzeBridgeCommandSchema = "{\"type\":\"record\",\"name\":\"AnalyzeBridgeCommand\",\"fields\":[{\"name\":\"chain\",\"type\":\"string\"},{\"name\":\"messageId\",\"type\":\"string\"}]}";
    export const AnalyzeBridgeCommandName = "io.veridis.command.AnalyzeBridgeCommand";
    export interface AnalyzeBridgeCommand {
        chain: string;
        messageId: string;
    }
    export const AnalyzeTransactionCommandSchema = "{\"type\":\"record\",\"name\":\"AnalyzeTransactionCommand\",\"fields\":[{\"name\":\"chain\",\"type\":\"string\"},{\"name\":\"txHash\",\"type\":\"string\"}]}";
    export const AnalyzeTransactionCommandName = "io.veridis.command.AnalyzeTransactionCommand";
    export interface AnalyzeTransactionCommand {
        chain: string;
        txHash: string;
    }
    export const CommandSchema = "{\"type\":\"record\",\"name\":\"Command\",\"namespace\":\"io.veridis.command\",\"doc\":\"A request for the pipeline to do something, from the HTTP gateway or written directly by an upstream system. Keyed by idempotencyKey.\",\"fields\":[{\"name\":\"commandId\",\"type\":\"string\",\"doc\":\"UUID assigned by whoever wrote the command.\"},{\"name\":\"idempotencyKey\",\"type\":\"string\",\"doc\":\"Retries of one request carry the same key; consumers act once per key.\"},{\"name\":\"issuedAt\",\"type\":{\"type\":\"long\",\"logicalType\":\"timestamp-millis\"}},{\"name\":\"actor\",\"type\":{\"type\":\"record\",\"name\":\"Actor\",\"namespace\":\"io.veridis\",\"doc\":\"Who caused something: an authenticated caller of the gateway, an upstream system writing to the bus directly, or a pipeline service.\",\"fields\":[{\"name\":\"kind\",\"type\":{\"type\":\"enum\",\"name\":\"ActorKind\",\"symbols\":[\"USER\",\"API_KEY\",\"SERVICE\",\"UPSTREAM\"]}},{\"name\":\"id\",\"type\":\"string\",\"doc\":\"Stable, non-secret identifier: JWT subject, API key id (never the key), service name.\"}]}},{\"name\":\"payload\",\"type\":[{\"type\":\"record\",\"name\":\"ProveCommand\",\"doc\":\"Generate a Groth16 proof. Inputs are circuit signals by name, each flattened to decimal field elements (a scalar is a one-element array).\",\"fields\":[{\"name\":\"circuit\",\"type\":{\"type\":\"enum\",\"name\":\"Circuit\",\"namespace\":\"io.veridis\",\"doc\":\"The circuits the protocol proves and verifies.\",\"symbols\":[\"IDENTITY_MEMBERSHIP\",\"ATTESTATION_DISCLOSURE\",\"ERASURE\"]}},{\"name\":\"inputs\",\"type\":{\"type\":\"map\",\"values\":{\"type\":\"array\",\"items\":\"string\"}},\"doc\":\"Signal name to its values. On the topic each signal is sealed to the prover's X25519 key as one string vprv1.<ephemeralPublicKey>.<iv>.<ciphertext> (docs/zk.md, Sealed inputs); the HTTP gateway seals what its callers send. Plain text on the topic is refused.\"}]},{\"type\":\"record\",\"name\":\"VerifyCommand\",\"fields\":[{\"name\":\"circuit\",\"type\":\"io.veridis.Circuit\"},{\"name\":\"proof\",\"type\":{\"type\":\"record\",\"name\":\"Groth16Proof\",\"namespace\":\"io.veridis\",\"doc\":\"A Groth16 proof as snarkjs writes it: points as decimal field-element strings, affine coordinates plus the projective 1.\",\"fields\":[{\"name\":\"piA\",\"type\":{\"type\":\"array\",\"items\":\"string\"}},{\"name\":\"piB\",\"type\":{\"type\":\"array\",\"items\":{\"type\":\"array\",\"items\":\"string\"}}},{\"name\":\"piC\",\"type\":{\"type\":\"array\",\"items\":\"string\"}},{\"name\":\"protocol\",\"type\":\"string\",\"default\":\"groth16\"},{\"name\":\"curve\",\"type\":\"string\",\"default\":\"bn128\"}]}},{\"name\":\"publicSignals\",\"type\":{\"type\":\"array\",\"items\":\"string\"}},{\"name\":\"expectedChain\",\"type\":[\"null\",\"string\"],\"default\":null,\"doc\":\"When set, the public root/scope must match what this CAIP-2 chain has published.\"}]},{\"type\":\"record\",\"name\":\"RegisterAttestationCommand\",\"fields\":[{\"name\":\"chain\",\"type\":\"string\",\"doc\":\"CAIP-2.\"},{\"name\":\"registry\",\"type\":\"string\"},{\"name\":\"attestationId\",\"type\":\"string\"},{\"name\":\"root\",\"type\":\"string\",\"doc\":\"Decimal field element.\"},{\"name\":\"subjectId\",\"type\":[\"null\",\"string\"],\"default\":null,\"doc\":\"The data subject. On the topic sealed under the subject's data key as vsub1.<keyId>.<iv>.<ciphertext> (docs/audit.md, Sealed fields); the HTTP gateway seals what its callers send. Plain text on the topic is refused. Stored encrypted, audited as a keyed hash.\"}]},{\"type\":\"record\",\"name\":\"PropagateNullifierCommand\",\"fields\":[{\"name\":\"scope\",\"type\":\"string\"},{\"name\":\"nullifier\",\"type\":\"string\"},{\"name\":\"sourceChain\",\"type\":\"string\"},{\"name\":\"targetChains\",\"type\":{\"type\":\"array\",\"items\":\"string\"},\"doc\":\"CAIP-2 ids; empty means every connected chain but the source.\"}]},{\"type\":\"record\",\"name\":\"RequestErasureCommand\",\"fields\":[{\"name\":\"subjectId\",\"type\":\"string\",\"doc\":\"On the topic sealed under the subject's data key as vsub1.<keyId>.<iv>.<ciphertext> (docs/audit.md, Sealed fields); the HTTP gateway seals what its callers send. Plain text on the topic is refused.\"},{\"name\":\"reason\",\"type\":[\"null\",\"string\"],\"default\":null,\"doc\":\"Free text; on the topic sealed like subjectId under the same key. Never kept.\"}]},{\"type\":\"record\",\"name\":\"AnalyzeBridgeCommand\",\"fields\":[{\"name\":\"chain\",\"type\":\"string\"},{\"name\":\"messageId\",\"type\":\"string\"}]},{\"type\":\"record\",\"name\":\"AnalyzeTransactionCommand\",\"fields\":[{\"name\":\"chain\",\"type\":\"string\"},{\"name\":\"txHash\",\"type\":\"string\"}]}]}]}";
    export const CommandName = "io.veridis.command.Command";
    /**
     * A request for the pipeline to do something, from the HTTP gateway or written directly by an upstream system. Keyed by idempotencyKey.
     */
    export interface Command {
        /**
         * UUID assigned by whoever wrote the command.
         */
        commandId: string;
        /**
         * Retries of one request carry the same key; consumers act once per key.
         */
        idempotencyKey: string;
        issuedAt: number;
        actor: IoVeridis.Actor;
        payload: {
            "io.veridis.command.ProveCommand": IoVeridisCommand.ProveCommand;
            "io.veridis.command.VerifyCommand"?: never;
            "io.veridis.command.RegisterAttestationCommand"?: never;
            "io.veridis.command.PropagateNullifierCommand"?: never;
            "io.veridis.command.RequestErasureCommand"?: never;
            "io.veridis.command.AnalyzeBridgeCommand"?: never;
            "io.veridis.command.AnalyzeTransactionCommand"?: never;
        } | {
            "io.veridis.command.ProveCommand"?: never;
            "io.veridis.command.VerifyCommand": IoVeridisCommand.VerifyCommand;
            "io.veridis.command.RegisterAttestationCommand"?: never;
            "io.veridis.command.PropagateNullifierCommand"?: never;
            "io.veridis.command.RequestErasureCommand"?: never;
            "io.veridis.command.AnalyzeBridgeCommand"?: never;
            "io.veridis.command.AnalyzeTransactionCommand"?: never;
        } | {
            "io.veridis.command.ProveCommand"?: never;
            "io.veridis.command.VerifyCommand"?: never;
            "io.veridis.command.RegisterAttestationCommand": IoVeridisCommand.RegisterAttestationCommand;
            "io.veridis.command.PropagateNullifierCommand"?: never;
            "io.veridis.command.RequestErasureCommand"?: never;
            "io.veridis.command.AnalyzeBridgeCommand"?: never;
            "io.veridis.command.AnalyzeTransactionCommand"?: never;
        } | {
            "io.veridis.command.ProveCommand"?: never;
            "io.veridis.command.VerifyCommand"?: never;
            "io.veridis.command.RegisterAttestationCommand"?: never;
            "io.veridis.command.PropagateNullifierCommand": IoVeridisCommand.PropagateNullifierCommand;
            "io.veridis.command.RequestErasureCommand"?: never;
            "io.veridis.command.AnalyzeBridgeCommand"?: never;
            "io.veridis.command.AnalyzeTransactionCommand"?: never;
        } | {
            "io.veridis.command.ProveCommand"?: never;
            "io.veridis.command.VerifyCommand"?: never;
            "io.veridis.command.RegisterAttestationCommand"?: never;
            "io.veridis.command.PropagateNullifierCommand"?: never;
            "io.veridis.command.RequestErasureCommand": IoVeridisCommand.RequestErasureCommand;
            "io.veridis.command.AnalyzeBridgeCommand"?: never;
            "io.veridis.command.AnalyzeTransactionCommand"?: never;
        } | {
            "io.veridis.command.ProveCommand"?: never;
            "io.veridis.command.VerifyCommand"?: never;
            "io.veridis.command.RegisterAttestationCommand"?: never;
            "io.veridis.command.PropagateNullifierCommand"?: never;
            "io.veridis.command.RequestErasureCommand"?: never;
            "io.veridis.command.AnalyzeBridgeCommand": IoVeridisCommand.AnalyzeBridgeCommand;
            "io.veridis.command.AnalyzeTransactionCommand"?: never;
        } | {
            "io.veridis.command.ProveCommand"?: never;
            "io.veridis.command.VerifyCommand"?: never;
            "io.veridis.command.RegisterAttestationCommand"?: never;
            "io.veridis.command.PropagateNullifierCommand"?: never;
            "io.veridis.command.RequestErasureCommand"?: never;
            "io.veridis.command.AnalyzeBridgeCommand"?: never;
            "io.veridis.command.AnalyzeTransactionCommand": IoVeridisCommand.AnalyzeTransactionCommand;
        };
    }
}
