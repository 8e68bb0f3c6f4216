// Generated from schemas/*.avsc by `veridis schemas generate`. Do not edit.
/* eslint-disable @typescript-eslint/no-namespace */

export type AuditEvent = IoVeridisAudit.AuditEvent;

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
}

export namespace IoVeridisAudit {
    export const GdprCategorySchema = "{\"type\":\"enum\",\"name\":\"GdprCategory\",\"symbols\":[\"NONE\",\"IDENTIFIER\",\"CREDENTIAL\",\"FINANCIAL\",\"SPECIAL_CATEGORY\"],\"default\":\"NONE\"}";
    export const GdprCategoryName = "io.veridis.audit.GdprCategory";
    export type GdprCategory = "NONE" | "IDENTIFIER" | "CREDENTIAL" | "FINANCIAL" | "SPECIAL_CATEGORY";
    export const LegalBasisSchema = "{\"type\":\"enum\",\"name\":\"LegalBasis\",\"symbols\":[\"NOT_APPLICABLE\",\"CONSENT\",\"CONTRACT\",\"LEGAL_OBLIGATION\",\"VITAL_INTERESTS\",\"PUBLIC_TASK\",\"LEGITIMATE_INTERESTS\"],\"default\":\"NOT_APPLICABLE\"}";
    export const LegalBasisName = "io.veridis.audit.LegalBasis";
    export type LegalBasis = "NOT_APPLICABLE" | "CONSENT" | "CONTRACT" | "LEGAL_OBLIGATION" | "VITAL_INTERESTS" | "PUBLIC_TASK" | "LEGITIMATE_INTERESTS";
    export const AuditEventSchema = "{\"type\":\"record\",\"name\":\"AuditEvent\",\"namespace\":\"io.veridis.audit\",\"doc\":\"A compliance-audit record. Keyed by subjectHash. Hash-chained: recordHash covers every other field, prevHash is the recordHash before it in the same chain, so a changed, removed or reordered record breaks the chain.\",\"fields\":[{\"name\":\"auditId\",\"type\":\"string\"},{\"name\":\"chainId\",\"type\":\"string\",\"doc\":\"Which hash chain this record extends.\"},{\"name\":\"sequence\",\"type\":\"long\",\"doc\":\"Position in its hash chain, from 0.\"},{\"name\":\"prevHash\",\"type\":\"string\",\"doc\":\"Hex sha256 of the previous record of the chain; 64 zeros for the first.\"},{\"name\":\"recordHash\",\"type\":\"string\"},{\"name\":\"action\",\"type\":\"string\",\"doc\":\"What was done, e.g. command.accepted, proof.generated, subject.erased.\"},{\"name\":\"actor\",\"type\":{\"type\":\"record\",\"name\":\"Actor\",\"namespace\":\"io.veridis\",\"doc\":\"Who caused something: an authenticated caller of the gateway, an upstream system writing to the bus directly, or a pipeline service.\",\"fields\":[{\"name\":\"kind\",\"type\":{\"type\":\"enum\",\"name\":\"ActorKind\",\"symbols\":[\"USER\",\"API_KEY\",\"SERVICE\",\"UPSTREAM\"]}},{\"name\":\"id\",\"type\":\"string\",\"doc\":\"Stable, non-secret identifier: JWT subject, API key id (never the key), service name.\"}]}},{\"name\":\"subjectHash\",\"type\":[\"null\",\"string\"],\"default\":null,\"doc\":\"HMAC-SHA256 of the data subject's id under a key that never leaves the audit service; null when no subject is touched.\"},{\"name\":\"gdprCategory\",\"type\":{\"type\":\"enum\",\"name\":\"GdprCategory\",\"symbols\":[\"NONE\",\"IDENTIFIER\",\"CREDENTIAL\",\"FINANCIAL\",\"SPECIAL_CATEGORY\"],\"default\":\"NONE\"}},{\"name\":\"legalBasis\",\"type\":{\"type\":\"enum\",\"name\":\"LegalBasis\",\"symbols\":[\"NOT_APPLICABLE\",\"CONSENT\",\"CONTRACT\",\"LEGAL_OBLIGATION\",\"VITAL_INTERESTS\",\"PUBLIC_TASK\",\"LEGITIMATE_INTERESTS\"],\"default\":\"NOT_APPLICABLE\"}},{\"name\":\"retentionDays\",\"type\":[\"null\",\"int\"],\"default\":null,\"doc\":\"How long data about this action may be kept; null when none is kept.\"},{\"name\":\"references\",\"type\":{\"type\":\"array\",\"items\":\"string\"},\"doc\":\"Command ids, event ids, proof result ids this record is about.\"},{\"name\":\"details\",\"type\":{\"type\":\"map\",\"values\":\"string\"},\"default\":{},\"doc\":\"Non-personal, non-secret context.\"},{\"name\":\"occurredAt\",\"type\":{\"type\":\"long\",\"logicalType\":\"timestamp-millis\"}}]}";
    export const AuditEventName = "io.veridis.audit.AuditEvent";
    /**
     * A compliance-audit record. Keyed by subjectHash. Hash-chained: recordHash covers every other field, prevHash is the recordHash before it in the same chain, so a changed, removed or reordered record breaks the chain.
     */
    export interface AuditEvent {
        auditId: string;
        /**
         * Which hash chain this record extends.
         */
        chainId: string;
        /**
         * Position in its hash chain, from 0.
         */
        sequence: number;
        /**
         * Hex sha256 of the previous record of the chain; 64 zeros for the first.
         */
        prevHash: string;
        recordHash: string;
        /**
         * What was done, e.g. command.accepted, proof.generated, subject.erased.
         */
        action: string;
        actor: IoVeridis.Actor;
        /**
         * HMAC-SHA256 of the data subject's id under a key that never leaves the audit service; null when no subject is touched.
         *
         * Default: null
         */
        subjectHash: null | string;
        gdprCategory: IoVeridisAudit.GdprCategory;
        legalBasis: IoVeridisAudit.LegalBasis;
        /**
         * How long data about this action may be kept; null when none is kept.
         *
         * Default: null
         */
        retentionDays: null | number;
        /**
         * Command ids, event ids, proof result ids this record is about.
         */
        references: string[];
        /**
         * Non-personal, non-secret context.
         *
         * Default: {}
         */
        details: {
            [index: string]: string;
        };
        occurredAt: number;
    }
}
