// Generated from schemas/*.avsc by `veridis schemas generate`. Do not edit.
/* eslint-disable @typescript-eslint/no-namespace */

export type ProofResult = IoVeridisProof.ProofResult;

export namespace IoVeridis {
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

export namespace IoVeridisProof {
    export const ProofStatusSchema = "{\"type\":\"enum\",\"name\":\"ProofStatus\",\"symbols\":[\"GENERATED\",\"VERIFIED\",\"REJECTED\"]}";
    export const ProofStatusName = "io.veridis.proof.ProofStatus";
    export type ProofStatus = "GENERATED" | "VERIFIED" | "REJECTED";
    export const ProofResultSchema = "{\"type\":\"record\",\"name\":\"ProofResult\",\"namespace\":\"io.veridis.proof\",\"doc\":\"Outcome of a prove or verify command, or of verifying a proof seen on a chain. Keyed by commandId (or source eventId).\",\"fields\":[{\"name\":\"resultId\",\"type\":\"string\"},{\"name\":\"commandId\",\"type\":[\"null\",\"string\"],\"default\":null},{\"name\":\"sourceEventId\",\"type\":[\"null\",\"string\"],\"default\":null,\"doc\":\"Chain event whose proof was verified, when not from a command.\"},{\"name\":\"circuit\",\"type\":{\"type\":\"enum\",\"name\":\"Circuit\",\"namespace\":\"io.veridis\",\"doc\":\"The circuits the protocol proves and verifies.\",\"symbols\":[\"IDENTITY_MEMBERSHIP\",\"ATTESTATION_DISCLOSURE\",\"ERASURE\"]}},{\"name\":\"status\",\"type\":{\"type\":\"enum\",\"name\":\"ProofStatus\",\"symbols\":[\"GENERATED\",\"VERIFIED\",\"REJECTED\"]}},{\"name\":\"proof\",\"type\":[\"null\",{\"type\":\"record\",\"name\":\"Groth16Proof\",\"namespace\":\"io.veridis\",\"doc\":\"A Groth16 proof as snarkjs writes it: points as decimal field-element strings, affine coordinates plus the projective 1.\",\"fields\":[{\"name\":\"piA\",\"type\":{\"type\":\"array\",\"items\":\"string\"}},{\"name\":\"piB\",\"type\":{\"type\":\"array\",\"items\":{\"type\":\"array\",\"items\":\"string\"}}},{\"name\":\"piC\",\"type\":{\"type\":\"array\",\"items\":\"string\"}},{\"name\":\"protocol\",\"type\":\"string\",\"default\":\"groth16\"},{\"name\":\"curve\",\"type\":\"string\",\"default\":\"bn128\"}]}],\"default\":null},{\"name\":\"publicSignals\",\"type\":{\"type\":\"array\",\"items\":\"string\"},\"default\":[]},{\"name\":\"reason\",\"type\":[\"null\",\"string\"],\"default\":null,\"doc\":\"Why a proof was rejected; never contains private inputs.\"},{\"name\":\"durationMs\",\"type\":\"double\"},{\"name\":\"producedAt\",\"type\":{\"type\":\"long\",\"logicalType\":\"timestamp-millis\"}}]}";
    export const ProofResultName = "io.veridis.proof.ProofResult";
    /**
     * Outcome of a prove or verify command, or of verifying a proof seen on a chain. Keyed by commandId (or source eventId).
     */
    export interface ProofResult {
        resultId: string;
        /**
         * Default: null
         */
        commandId: null | string;
        /**
         * Chain event whose proof was verified, when not from a command.
         *
         * Default: null
         */
        sourceEventId: null | string;
        circuit: IoVeridis.Circuit;
        status: IoVeridisProof.ProofStatus;
        /**
         * Default: null
         */
        proof: null | IoVeridis.Groth16Proof;
        /**
         * Default: []
         */
        publicSignals: string[];
        /**
         * Why a proof was rejected; never contains private inputs.
         *
         * Default: null
         */
        reason: null | string;
        durationMs: number;
        producedAt: number;
    }
}
