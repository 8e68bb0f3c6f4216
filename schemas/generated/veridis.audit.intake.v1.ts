// Generated from schemas/*.avsc by `veridis schemas generate`. Do not edit.
/* eslint-disable @typescript-eslint/no-namespace */

export type AuditFact = IoVeridisAudit.AuditFact;

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
    export const AuditFactSchema = "{\"type\":\"record\",\"name\":\"AuditFact\",\"namespace\":\"io.veridis.audit\",\"doc\":\"An unchained audit fact from the HTTP gateway: one per accepted or refused command request. The audit consumer hash-chains these into veridis.audit.v1 (its single writer). Keyed by actor id. Never carries secrets, private inputs or raw data-subject ids.\",\"fields\":[{\"name\":\"factId\",\"type\":\"string\",\"doc\":\"UUID of this fact; consumers recognise a redelivery by it.\"},{\"name\":\"action\",\"type\":\"string\",\"doc\":\"What happened: command.accepted, command.replayed or command.refused.\"},{\"name\":\"actor\",\"type\":{\"type\":\"record\",\"name\":\"Actor\",\"namespace\":\"io.veridis\",\"doc\":\"Who caused something: an authenticated caller of the gateway, an upstream system writing to the bus directly, or a pipeline service.\",\"fields\":[{\"name\":\"kind\",\"type\":{\"type\":\"enum\",\"name\":\"ActorKind\",\"symbols\":[\"USER\",\"API_KEY\",\"SERVICE\",\"UPSTREAM\"]}},{\"name\":\"id\",\"type\":\"string\",\"doc\":\"Stable, non-secret identifier: JWT subject, API key id (never the key), service name.\"}]},\"doc\":\"The authenticated caller; for a request without valid credentials, kind USER and id 'anonymous'.\"},{\"name\":\"status\",\"type\":\"int\",\"doc\":\"HTTP status code the gateway answered.\"},{\"name\":\"commandType\",\"type\":[\"null\",\"string\"],\"default\":null,\"doc\":\"Avro record name of the command asked for (e.g. ProveCommand), when the route tells it.\"},{\"name\":\"commandId\",\"type\":[\"null\",\"string\"],\"default\":null,\"doc\":\"The command id given, when one was.\"},{\"name\":\"idempotencyKey\",\"type\":[\"null\",\"string\"],\"default\":null,\"doc\":\"The command's key on veridis.command.v1 (a hash scoped to the caller, never the raw header).\"},{\"name\":\"reason\",\"type\":[\"null\",\"string\"],\"default\":null,\"doc\":\"Why a request was refused, in words that name no secret and no input value.\"},{\"name\":\"requestId\",\"type\":\"string\",\"doc\":\"The gateway's request id, to find its log lines.\"},{\"name\":\"occurredAt\",\"type\":{\"type\":\"long\",\"logicalType\":\"timestamp-millis\"}}]}";
    export const AuditFactName = "io.veridis.audit.AuditFact";
    /**
     * An unchained audit fact from the HTTP gateway: one per accepted or refused command request. The audit consumer hash-chains these into veridis.audit.v1 (its single writer). Keyed by actor id. Never carries secrets, private inputs or raw data-subject ids.
     */
    export interface AuditFact {
        /**
         * UUID of this fact; consumers recognise a redelivery by it.
         */
        factId: string;
        /**
         * What happened: command.accepted, command.replayed or command.refused.
         */
        action: string;
        /**
         * The authenticated caller; for a request without valid credentials, kind USER and id 'anonymous'.
         */
        actor: IoVeridis.Actor;
        /**
         * HTTP status code the gateway answered.
         */
        status: number;
        /**
         * Avro record name of the command asked for (e.g. ProveCommand), when the route tells it.
         *
         * Default: null
         */
        commandType: null | string;
        /**
         * The command id given, when one was.
         *
         * Default: null
         */
        commandId: null | string;
        /**
         * The command's key on veridis.command.v1 (a hash scoped to the caller, never the raw header).
         *
         * Default: null
         */
        idempotencyKey: null | string;
        /**
         * Why a request was refused, in words that name no secret and no input value.
         *
         * Default: null
         */
        reason: null | string;
        /**
         * The gateway's request id, to find its log lines.
         */
        requestId: string;
        occurredAt: number;
    }
}
