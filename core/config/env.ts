/**
 * The configuration's entry point under its historical name: the sections live in one file
 * each (kafka.ts, registry.ts, database.ts, ...) and index.ts composes them.
 */
export * from './index.ts'
