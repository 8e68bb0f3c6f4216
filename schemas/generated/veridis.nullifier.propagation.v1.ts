// Generated from schemas/*.avsc by `veridis schemas generate`. Do not edit.
/* eslint-disable @typescript-eslint/no-namespace */

export type NullifierPropagation = IoVeridisNullifier.NullifierPropagation;

export namespace IoVeridisNullifier {
    export const PropagationOutcomeSchema = "{\"type\":\"enum\",\"name\":\"PropagationOutcome\",\"symbols\":[\"PROPAGATED\",\"ALREADY_PRESENT\",\"FAILED\"]}";
    export const PropagationOutcomeName = "io.veridis.nullifier.PropagationOutcome";
    export type PropagationOutcome = "PROPAGATED" | "ALREADY_PRESENT" | "FAILED";
    export const NullifierPropagationSchema = "{\"type\":\"record\",\"name\":\"NullifierPropagation\",\"namespace\":\"io.veridis.nullifier\",\"doc\":\"What happened when one nullifier use was propagated to one target chain. Keyed by scope:nullifier.\",\"fields\":[{\"name\":\"scope\",\"type\":\"string\"},{\"name\":\"nullifier\",\"type\":\"string\"},{\"name\":\"sourceChain\",\"type\":\"string\"},{\"name\":\"sourceEventId\",\"type\":\"string\"},{\"name\":\"targetChain\",\"type\":\"string\"},{\"name\":\"outcome\",\"type\":{\"type\":\"enum\",\"name\":\"PropagationOutcome\",\"symbols\":[\"PROPAGATED\",\"ALREADY_PRESENT\",\"FAILED\"]}},{\"name\":\"txHash\",\"type\":[\"null\",\"string\"],\"default\":null},{\"name\":\"reason\",\"type\":[\"null\",\"string\"],\"default\":null},{\"name\":\"latencyMs\",\"type\":[\"null\",\"double\"],\"default\":null,\"doc\":\"From the source use being observed to the target registration being confirmed.\"},{\"name\":\"at\",\"type\":{\"type\":\"long\",\"logicalType\":\"timestamp-millis\"}}]}";
    export const NullifierPropagationName = "io.veridis.nullifier.NullifierPropagation";
    /**
     * What happened when one nullifier use was propagated to one target chain. Keyed by scope:nullifier.
     */
    export interface NullifierPropagation {
        scope: string;
        nullifier: string;
        sourceChain: string;
        sourceEventId: string;
        targetChain: string;
        outcome: IoVeridisNullifier.PropagationOutcome;
        /**
         * Default: null
         */
        txHash: null | string;
        /**
         * Default: null
         */
        reason: null | string;
        /**
         * From the source use being observed to the target registration being confirmed.
         *
         * Default: null
         */
        latencyMs: null | number;
        at: number;
    }
}
