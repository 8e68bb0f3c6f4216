/**
 * snarkjs and ffjavascript build the BN254 curve once per process, with worker threads
 * that keep the process alive; they cache it on globalThis. Terminating it on shutdown
 * (and after tests and scripts) lets the process exit.
 */
interface CachedCurve {
  terminate(): Promise<void> | void
}

export async function terminateCurves(): Promise<void> {
  const cache = globalThis as unknown as Record<string, CachedCurve | undefined>
  for (const name of ['curve_bn128', 'curve_bls12381']) {
    const curve = cache[name]
    if (curve) {
      cache[name] = undefined
      await curve.terminate()
    }
  }
}

let building: Promise<import('ffjavascript').Curve> | undefined

/**
 * The process's one multi-threaded BN254 curve, shared with snarkjs (which finds it on
 * globalThis). Building it once here avoids two concurrent first calls each starting a
 * set of worker threads, one of which nobody could terminate.
 */
export async function sharedCurve(): Promise<import('ffjavascript').Curve> {
  const cached = (globalThis as unknown as { curve_bn128?: import('ffjavascript').Curve | null }).curve_bn128
  if (cached) return cached
  building ??= import('ffjavascript').then(({ getCurveFromName }) => getCurveFromName('bn128'))
  try {
    return await building
  } finally {
    building = undefined
  }
}
