// Generated from schemas/*.avsc by `veridis schemas generate`. Do not edit.
/* eslint-disable @typescript-eslint/no-namespace */

export type Alert = IoVeridisAlert.Alert;

export namespace IoVeridisAlert {
    export const AlertKindSchema = "{\"type\":\"enum\",\"name\":\"AlertKind\",\"symbols\":[\"DOUBLE_NULLIFIER_USE\",\"FORGED_QUORUM\",\"SHORT_QUORUM\",\"MINT_WITHOUT_LOCK\",\"REPLAYED_MESSAGE\",\"RESERVE_SHORTFALL\",\"ABNORMAL_FLOW\",\"GUARDIAN_SET_CHANGE\",\"ADMIN_CHANGE\",\"OTHER\",\"LOCK_WITHOUT_VALUE\",\"GOVERNANCE_BYPASS\",\"SIGNER_CONCENTRATION\",\"UNPROVEN_MESSAGE\",\"SOURCE_DISAGREEMENT\",\"LIVENESS\",\"UNKNOWN_GATEWAY\",\"UNINTERPRETABLE_EVENT\"],\"default\":\"OTHER\"}";
    export const AlertKindName = "io.veridis.alert.AlertKind";
    export type AlertKind = "DOUBLE_NULLIFIER_USE" | "FORGED_QUORUM" | "SHORT_QUORUM" | "MINT_WITHOUT_LOCK" | "REPLAYED_MESSAGE" | "RESERVE_SHORTFALL" | "ABNORMAL_FLOW" | "GUARDIAN_SET_CHANGE" | "ADMIN_CHANGE" | "OTHER" | "LOCK_WITHOUT_VALUE" | "GOVERNANCE_BYPASS" | "SIGNER_CONCENTRATION" | "UNPROVEN_MESSAGE" | "SOURCE_DISAGREEMENT" | "LIVENESS" | "UNKNOWN_GATEWAY" | "UNINTERPRETABLE_EVENT";
    export const SeveritySchema = "{\"type\":\"enum\",\"name\":\"Severity\",\"symbols\":[\"INFO\",\"LOW\",\"MEDIUM\",\"HIGH\",\"CRITICAL\"]}";
    export const SeverityName = "io.veridis.alert.Severity";
    export type Severity = "INFO" | "LOW" | "MEDIUM" | "HIGH" | "CRITICAL";
    export const EvidenceSchema = "{\"type\":\"record\",\"name\":\"Evidence\",\"fields\":[{\"name\":\"eventId\",\"type\":\"string\"},{\"name\":\"chain\",\"type\":\"string\"},{\"name\":\"txHash\",\"type\":[\"null\",\"string\"],\"default\":null},{\"name\":\"blockNumber\",\"type\":[\"null\",\"long\"],\"default\":null},{\"name\":\"role\",\"type\":\"string\",\"default\":\"\",\"doc\":\"What this piece of evidence is to the finding, e.g. 'release', 'source lock', 'guardian set change'.\"}]}";
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
        /**
         * What this piece of evidence is to the finding, e.g. 'release', 'source lock', 'guardian set change'.
         *
         * Default: ""
         */
        role: string;
    }
    export const AlertStatusSchema = "{\"type\":\"enum\",\"name\":\"AlertStatus\",\"symbols\":[\"RAISED\",\"UPDATED\",\"CONFIRMED\",\"WITHDRAWN\"],\"default\":\"RAISED\"}";
    export const AlertStatusName = "io.veridis.alert.AlertStatus";
    export type AlertStatus = "RAISED" | "UPDATED" | "CONFIRMED" | "WITHDRAWN";
    export const AlertSchema = "{\"type\":\"record\",\"name\":\"Alert\",\"namespace\":\"io.veridis.alert\",\"doc\":\"A security finding. Keyed by alertId.\",\"fields\":[{\"name\":\"alertId\",\"type\":\"string\",\"doc\":\"Deterministic over the kind and the evidence, so a re-detection is recognisable.\"},{\"name\":\"kind\",\"type\":{\"type\":\"enum\",\"name\":\"AlertKind\",\"symbols\":[\"DOUBLE_NULLIFIER_USE\",\"FORGED_QUORUM\",\"SHORT_QUORUM\",\"MINT_WITHOUT_LOCK\",\"REPLAYED_MESSAGE\",\"RESERVE_SHORTFALL\",\"ABNORMAL_FLOW\",\"GUARDIAN_SET_CHANGE\",\"ADMIN_CHANGE\",\"OTHER\",\"LOCK_WITHOUT_VALUE\",\"GOVERNANCE_BYPASS\",\"SIGNER_CONCENTRATION\",\"UNPROVEN_MESSAGE\",\"SOURCE_DISAGREEMENT\",\"LIVENESS\",\"UNKNOWN_GATEWAY\",\"UNINTERPRETABLE_EVENT\"],\"default\":\"OTHER\"}},{\"name\":\"severity\",\"type\":{\"type\":\"enum\",\"name\":\"Severity\",\"symbols\":[\"INFO\",\"LOW\",\"MEDIUM\",\"HIGH\",\"CRITICAL\"]}},{\"name\":\"chain\",\"type\":[\"null\",\"string\"],\"default\":null},{\"name\":\"summary\",\"type\":\"string\"},{\"name\":\"evidence\",\"type\":{\"type\":\"array\",\"items\":{\"type\":\"record\",\"name\":\"Evidence\",\"fields\":[{\"name\":\"eventId\",\"type\":\"string\"},{\"name\":\"chain\",\"type\":\"string\"},{\"name\":\"txHash\",\"type\":[\"null\",\"string\"],\"default\":null},{\"name\":\"blockNumber\",\"type\":[\"null\",\"long\"],\"default\":null},{\"name\":\"role\",\"type\":\"string\",\"default\":\"\",\"doc\":\"What this piece of evidence is to the finding, e.g. 'release', 'source lock', 'guardian set change'.\"}]}}},{\"name\":\"details\",\"type\":{\"type\":\"map\",\"values\":\"string\"},\"default\":{}},{\"name\":\"detectedAt\",\"type\":{\"type\":\"long\",\"logicalType\":\"timestamp-millis\"}},{\"name\":\"detection\",\"type\":\"string\",\"default\":\"\",\"doc\":\"Stable id of the detection that raised it (e.g. release-without-source); empty for alerts from before detections had ids.\"},{\"name\":\"status\",\"type\":{\"type\":\"enum\",\"name\":\"AlertStatus\",\"symbols\":[\"RAISED\",\"UPDATED\",\"CONFIRMED\",\"WITHDRAWN\"],\"default\":\"RAISED\"},\"default\":\"RAISED\",\"doc\":\"Lifecycle of the incident named by alertId: RAISED once, UPDATED as more occurrences fold into it, CONFIRMED when an offending event is final, WITHDRAWN when every offending event left the canonical chain.\"},{\"name\":\"revision\",\"type\":\"int\",\"default\":0,\"doc\":\"Increases with every record about this alertId; (alertId, revision) is unique, so a record delivered twice is recognisable.\"},{\"name\":\"occurrences\",\"type\":\"long\",\"default\":1,\"doc\":\"Offending events folded into this incident (an attack of many copy-paste transactions is one incident).\"},{\"name\":\"chains\",\"type\":{\"type\":\"array\",\"items\":\"string\"},\"default\":[],\"doc\":\"Every chain (CAIP-2) the finding involves.\"}]}";
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
        /**
         * Stable id of the detection that raised it (e.g. release-without-source); empty for alerts from before detections had ids.
         *
         * Default: ""
         */
        detection: string;
        /**
         * Lifecycle of the incident named by alertId: RAISED once, UPDATED as more occurrences fold into it, CONFIRMED when an offending event is final, WITHDRAWN when every offending event left the canonical chain.
         *
         * Default: "RAISED"
         */
        status: IoVeridisAlert.AlertStatus;
        /**
         * Increases with every record about this alertId; (alertId, revision) is unique, so a record delivered twice is recognisable.
         *
         * Default: 0
         */
        revision: number;
        /**
         * Offending events folded into this incident (an attack of many copy-paste transactions is one incident).
         *
         * Default: 1
         */
        occurrences: number;
        /**
         * Every chain (CAIP-2) the finding involves.
         *
         * Default: []
         */
        chains: string[];
    }
}
