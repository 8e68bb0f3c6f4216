// Generated from schemas/*.avsc by `veridis schemas generate`. Do not edit.
/* eslint-disable @typescript-eslint/no-namespace */

export type Alert = IoVeridisAlert.Alert;

export namespace IoVeridisAlert {
    export const AlertKindSchema = "{\"type\":\"enum\",\"name\":\"AlertKind\",\"symbols\":[\"DOUBLE_NULLIFIER_USE\",\"FORGED_QUORUM\",\"SHORT_QUORUM\",\"MINT_WITHOUT_LOCK\",\"REPLAYED_MESSAGE\",\"RESERVE_SHORTFALL\",\"ABNORMAL_FLOW\",\"GUARDIAN_SET_CHANGE\",\"ADMIN_CHANGE\",\"OTHER\"],\"default\":\"OTHER\"}";
    export const AlertKindName = "io.veridis.alert.AlertKind";
    export type AlertKind = "DOUBLE_NULLIFIER_USE" | "FORGED_QUORUM" | "SHORT_QUORUM" | "MINT_WITHOUT_LOCK" | "REPLAYED_MESSAGE" | "RESERVE_SHORTFALL" | "ABNORMAL_FLOW" | "GUARDIAN_SET_CHANGE" | "ADMIN_CHANGE" | "OTHER";
    export const SeveritySchema = "{\"type\":\"enum\",\"name\":\"Severity\",\"symbols\":[\"INFO\",\"LOW\",\"MEDIUM\",\"HIGH\",\"CRITICAL\"]}";
    export const SeverityName = "io.veridis.alert.Severity";
    export type Severity = "INFO" | "LOW" | "MEDIUM" | "HIGH" | "CRITICAL";
    export const EvidenceSchema = "{\"type\":\"record\",\"name\":\"Evidence\",\"fields\":[{\"name\":\"eventId\",\"type\":\"string\"},{\"name\":\"chain\",\"type\":\"string\"},{\"name\":\"txHash\",\"type\":[\"null\",\"string\"],\"default\":null},{\"name\":\"blockNumber\",\"type\":[\"null\",\"long\"],\"default\":null}]}";
    export const EvidenceName = "io.veridis.alert.Evidence";
    export interface Evidence {
        eventId: string;
        chain: string;
        /**
         * Default: null
         */
        txHash: null | string;
        /**
         * Default: null
         */
        blockNumber: null | number;
    }
    export const AlertSchema = "{\"type\":\"record\",\"name\":\"Alert\",\"namespace\":\"io.veridis.alert\",\"doc\":\"A security finding. Keyed by alertId.\",\"fields\":[{\"name\":\"alertId\",\"type\":\"string\",\"doc\":\"Deterministic over the kind and the evidence, so a re-detection is recognisable.\"},{\"name\":\"kind\",\"type\":{\"type\":\"enum\",\"name\":\"AlertKind\",\"symbols\":[\"DOUBLE_NULLIFIER_USE\",\"FORGED_QUORUM\",\"SHORT_QUORUM\",\"MINT_WITHOUT_LOCK\",\"REPLAYED_MESSAGE\",\"RESERVE_SHORTFALL\",\"ABNORMAL_FLOW\",\"GUARDIAN_SET_CHANGE\",\"ADMIN_CHANGE\",\"OTHER\"],\"default\":\"OTHER\"}},{\"name\":\"severity\",\"type\":{\"type\":\"enum\",\"name\":\"Severity\",\"symbols\":[\"INFO\",\"LOW\",\"MEDIUM\",\"HIGH\",\"CRITICAL\"]}},{\"name\":\"chain\",\"type\":[\"null\",\"string\"],\"default\":null},{\"name\":\"summary\",\"type\":\"string\"},{\"name\":\"evidence\",\"type\":{\"type\":\"array\",\"items\":{\"type\":\"record\",\"name\":\"Evidence\",\"fields\":[{\"name\":\"eventId\",\"type\":\"string\"},{\"name\":\"chain\",\"type\":\"string\"},{\"name\":\"txHash\",\"type\":[\"null\",\"string\"],\"default\":null},{\"name\":\"blockNumber\",\"type\":[\"null\",\"long\"],\"default\":null}]}}},{\"name\":\"details\",\"type\":{\"type\":\"map\",\"values\":\"string\"},\"default\":{}},{\"name\":\"detectedAt\",\"type\":{\"type\":\"long\",\"logicalType\":\"timestamp-millis\"}}]}";
    export const AlertName = "io.veridis.alert.Alert";
    /**
     * A security finding. Keyed by alertId.
     */
    export interface Alert {
        /**
         * Deterministic over the kind and the evidence, so a re-detection is recognisable.
         */
        alertId: string;
        kind: IoVeridisAlert.AlertKind;
        severity: IoVeridisAlert.Severity;
        /**
         * Default: null
         */
        chain: null | string;
        summary: string;
        evidence: IoVeridisAlert.Evidence[];
        /**
         * Default: {}
         */
        details: {
            [index: string]: string;
        };
        detectedAt: number;
    }
}
