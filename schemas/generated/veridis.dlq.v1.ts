// Generated from schemas/*.avsc by `veridis schemas generate`. Do not edit.
/* eslint-disable @typescript-eslint/no-namespace */

export type DeadLetter = IoVeridisDlq.DeadLetter;

export namespace IoVeridisDlq {
    export const DeadLetterReasonSchema = "{\"type\":\"enum\",\"name\":\"DeadLetterReason\",\"symbols\":[\"UNDECODABLE\",\"HANDLER_FAILED\",\"NON_RETRYABLE\",\"UNKNOWN\"],\"default\":\"UNKNOWN\"}";
    export const DeadLetterReasonName = "io.veridis.dlq.DeadLetterReason";
    export type DeadLetterReason = "UNDECODABLE" | "HANDLER_FAILED" | "NON_RETRYABLE" | "UNKNOWN";
    export const DeadLetterSchema = "{\"type\":\"record\",\"name\":\"DeadLetter\",\"namespace\":\"io.veridis.dlq\",\"doc\":\"A message a consumer gave up on, with the original bytes so it can be inspected and replayed. Keyed by the original key.\",\"fields\":[{\"name\":\"topic\",\"type\":\"string\"},{\"name\":\"partition\",\"type\":\"int\"},{\"name\":\"offset\",\"type\":\"string\",\"doc\":\"Kafka offset as a decimal string (int64 beyond JavaScript's safe range is possible).\"},{\"name\":\"timestamp\",\"type\":{\"type\":\"long\",\"logicalType\":\"timestamp-millis\"},\"doc\":\"The original message's timestamp.\"},{\"name\":\"key\",\"type\":[\"null\",\"bytes\"],\"default\":null},{\"name\":\"value\",\"type\":[\"null\",\"bytes\"],\"default\":null},{\"name\":\"headers\",\"type\":{\"type\":\"map\",\"values\":\"bytes\"},\"default\":{}},{\"name\":\"consumerGroup\",\"type\":\"string\"},{\"name\":\"reason\",\"type\":{\"type\":\"enum\",\"name\":\"DeadLetterReason\",\"symbols\":[\"UNDECODABLE\",\"HANDLER_FAILED\",\"NON_RETRYABLE\",\"UNKNOWN\"],\"default\":\"UNKNOWN\"}},{\"name\":\"errorName\",\"type\":\"string\"},{\"name\":\"errorMessage\",\"type\":\"string\"},{\"name\":\"attempts\",\"type\":\"int\"},{\"name\":\"firstFailedAt\",\"type\":{\"type\":\"long\",\"logicalType\":\"timestamp-millis\"}},{\"name\":\"deadLetteredAt\",\"type\":{\"type\":\"long\",\"logicalType\":\"timestamp-millis\"}}]}";
    export const DeadLetterName = "io.veridis.dlq.DeadLetter";
    /**
     * A message a consumer gave up on, with the original bytes so it can be inspected and replayed. Keyed by the original key.
     */
    export interface DeadLetter {
        topic: string;
        partition: number;
        /**
         * Kafka offset as a decimal string (int64 beyond JavaScript's safe range is possible).
         */
        offset: string;
        /**
         * The original message's timestamp.
         */
        timestamp: number;
        /**
         * Default: null
         */
        key: null | Buffer;
        /**
         * Default: null
         */
        value: null | Buffer;
        /**
         * Default: {}
         */
        headers: {
            [index: string]: Buffer;
        };
        consumerGroup: string;
        reason: IoVeridisDlq.DeadLetterReason;
        errorName: string;
        errorMessage: string;
        attempts: number;
        firstFailedAt: number;
        deadLetteredAt: number;
    }
}
