// The slice of ffjavascript 0.3 the verifier and the tooling use; the package ships no types.
declare module 'ffjavascript' {
  export interface CurveField {
    readonly n8: number
    e(value: bigint | string | number): Uint8Array
    fromObject(value: bigint): Uint8Array
    toObject(value: Uint8Array): bigint
    eq(a: Uint8Array, b: Uint8Array): boolean
    isZero(a: Uint8Array): boolean
    one: Uint8Array
    neg(a: Uint8Array): Uint8Array
    mul(a: Uint8Array, b: Uint8Array): Uint8Array
    exp(a: Uint8Array, exponent: bigint): Uint8Array
    add(a: Uint8Array, b: Uint8Array): Uint8Array
    square(a: Uint8Array): Uint8Array
    isSquare(a: Uint8Array): boolean
    sqrt(a: Uint8Array): Uint8Array
  }
  export interface CurveGroup {
    readonly F: CurveField
    readonly zeroAffine: Uint8Array
    /** The curve's b coefficient (y² = x³ + b). */
    readonly b: Uint8Array
    double(point: Uint8Array): Uint8Array
    fromObject(value: readonly unknown[]): Uint8Array
    toObject(point: Uint8Array): unknown[]
    toAffine(point: Uint8Array): Uint8Array
    toJacobian(point: Uint8Array): Uint8Array
    neg(point: Uint8Array): Uint8Array
    add(a: Uint8Array, b: Uint8Array): Uint8Array
    eq(a: Uint8Array, b: Uint8Array): boolean
    isZero(point: Uint8Array): boolean
    isValid(point: Uint8Array): boolean
    timesScalar(point: Uint8Array, scalar: bigint | Uint8Array): Uint8Array
    multiExpAffine(bases: Uint8Array, scalars: Uint8Array): Promise<Uint8Array>
  }
  /** One step of a task run on a worker thread (ffjavascript's thread manager). */
  export type ThreadStep =
    | { cmd: 'ALLOCSET'; var: number; buff: Uint8Array }
    | { cmd: 'ALLOC'; var: number; len: number }
    | { cmd: 'CALL'; fnName: string; params: ({ var: number } | { val: number })[] }
    | { cmd: 'GET'; out: number; var: number; len: number }
  export interface Curve {
    readonly name: string
    readonly tm: { queueAction(task: ThreadStep[]): Promise<Uint8Array[]> }
    readonly prePSize: number
    readonly preQSize: number
    readonly Gt: {
      readonly n8: number
      readonly one: Uint8Array
      mul(a: Uint8Array, b: Uint8Array): Uint8Array
      eq(a: Uint8Array, b: Uint8Array): boolean
    }
    finalExponentiation(value: Uint8Array): Uint8Array
    readonly q: bigint
    readonly r: bigint
    readonly G1: CurveGroup
    readonly G2: CurveGroup
    readonly Fr: CurveField
    pairingEq(...pointsThenOptionalTarget: Uint8Array[]): Promise<boolean>
    terminate(): Promise<void>
  }
  export function buildBn128(singleThread?: boolean): Promise<Curve>
  export function getCurveFromName(name: string, singleThread?: boolean): Promise<Curve>
  export const Scalar: {
    toRprLE(buffer: Uint8Array, offset: number, value: bigint, length: number): void
  }
  export const utils: {
    unstringifyBigInts(value: unknown): unknown
    stringifyBigInts(value: unknown): unknown
  }
}

// The slice of circomlibjs 0.1 used to build circuit inputs (Poseidon, EdDSA-Poseidon).
declare module 'circomlibjs' {
  export interface FieldLike {
    e(value: bigint | string | number): Uint8Array
    toObject(value: Uint8Array): bigint
  }
  export interface Poseidon {
    (inputs: readonly (bigint | Uint8Array)[]): Uint8Array
    readonly F: FieldLike
  }
  export interface EdDSA {
    readonly F: FieldLike
    readonly babyJub: { readonly subOrder: bigint }
    prv2pub(privateKey: Uint8Array): [Uint8Array, Uint8Array]
    signPoseidon(privateKey: Uint8Array, message: Uint8Array): { R8: [Uint8Array, Uint8Array]; S: bigint }
    verifyPoseidon(message: Uint8Array, signature: unknown, publicKey: unknown): boolean
  }
  export function buildPoseidon(): Promise<Poseidon>
  export function buildEddsa(): Promise<EdDSA>
}

// The slice of circom_runtime 0.1 (snarkjs's witness runtime) the prover uses.
declare module 'circom_runtime' {
  export interface WitnessCalculator {
    circom_version(): number
    /** The witness in snarkjs's .wtns layout (circom 2 circuits). */
    calculateWTNSBin(input: object, sanityCheck?: boolean): Promise<Uint8Array>
  }
  export function WitnessCalculatorBuilder(code: Uint8Array, options?: object): Promise<WitnessCalculator>
}
