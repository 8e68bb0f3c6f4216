//! The prover's multi-scalar multiplications: Pippenger's bucket method with signed digits,
//! as arkworks' `msm_bigint`, but with every bucket kept in affine coordinates and each round
//! of bucket additions sharing one field inversion (Montgomery's batch inversion), the
//! "batch-affine" method of gnark-crypto and other fast provers.
//!
//! Why: most of a proof's time is spent adding a base point into a bucket. arkworks does
//! that in extended Jacobian coordinates (8M + 2S). In affine, an addition is a slope, a
//! square and a product (2M + 1S) plus its share of a batch inversion (3M): ~40 % less work
//! on paper, 10-12 % less time per proof as measured (docs/benchmarks.md), the bucket sums,
//! the digits and the waiting additions taking the rest. Two additions into the same bucket
//! cannot share a batch, so the second waits for the next one. The bucket sums at the end
//! of each window run in projective coordinates as before.
//!
//! Exceptional additions (a bucket meeting its own point: a doubling, or its negation: zero)
//! are done at once in projective coordinates; they are rare for random scalars, but a key
//! holding the same point twice makes them certain, so they must be right.

use ark_ec::short_weierstrass::{Affine, Projective, SWCurveConfig};
use ark_ec::{AffineRepr, CurveGroup};
use ark_ff::{AdditiveGroup, BigInteger256, Field, Zero};
use rayon::prelude::*;

/// Bits of a BN254 scalar (canonical, below r < 2²⁵⁴).
const SCALAR_BITS: usize = 254;

/// Additions per shared inversion: the inversion's cost is spread over this many.
const BATCH: usize = 256;

/// Σ scalarsᵢ · basesᵢ for canonical scalars of the BN254 scalar field.
pub fn msm<P: SWCurveConfig>(bases: &[Affine<P>], scalars: &[BigInteger256]) -> Projective<P> {
    let size = bases.len().min(scalars.len());
    if size == 0 {
        return Projective::zero();
    }
    let c = window_bits(size);
    // One bit more than the scalar: the last window takes the carry of the one below it.
    let windows = (SCALAR_BITS + 1).div_ceil(c);
    let digits = signed_digits(&scalars[..size], c, windows);
    let sums: Vec<Projective<P>> = (0..windows)
        .into_par_iter()
        .map(|window| window_sum(&bases[..size], &digits, windows, window, c))
        .collect();
    let mut total = Projective::zero();
    for sum in sums.iter().rev() {
        for _ in 0..c {
            total.double_in_place();
        }
        total += sum;
    }
    total
}

/// Window width: arkworks' rule (0.69 · log2 n + 2: 10 bits for the Semaphore keys).
/// Measured with these buckets, one bit less was no faster and one bit more much slower
/// (twice the bucket sums per window for a tenth fewer windows).
fn window_bits(size: usize) -> usize {
    if size < 32 {
        3
    } else {
        (ark_std::log2(size) as usize * 69 / 100) + 2
    }
}

/// Each scalar's digits, lowest window first, in [−2^(c−1), 2^(c−1)]: a digit of 2^(c−1) or
/// more becomes negative and carries one into the next window. The top window, which has
/// room for the carry, is never recentred.
fn signed_digits(scalars: &[BigInteger256], c: usize, windows: usize) -> Vec<i32> {
    let half = 1u64 << (c - 1);
    let mut digits = vec![0i32; scalars.len() * windows];
    digits
        .par_chunks_mut(windows)
        .zip(scalars.par_iter())
        .for_each(|(row, scalar)| {
            let mut carry = 0u64;
            for (window, digit) in row.iter_mut().enumerate() {
                let value = bits(scalar.as_ref(), window * c, c) + carry;
                if value >= half && window + 1 < windows {
                    *digit = value as i32 - (1i32 << c);
                    carry = 1;
                } else {
                    *digit = value as i32;
                    carry = 0;
                }
            }
        });
    digits
}

/// `count` (< 64) bits of a little-endian limb array from `offset`; zeros past its end.
fn bits(limbs: &[u64], offset: usize, count: usize) -> u64 {
    let (index, shift) = (offset / 64, offset % 64);
    let Some(low) = limbs.get(index) else {
        return 0;
    };
    let mut value = low >> shift;
    if shift + count > 64 {
        if let Some(high) = limbs.get(index + 1) {
            value |= high << (64 - shift);
        }
    }
    value & ((1u64 << count) - 1)
}

/// Σ digitᵢ · basesᵢ for one window: the bases go into buckets by |digit| (negated for a
/// negative digit), then Σ (b + 1) · bucket_b by running sums from the top bucket down.
fn window_sum<P: SWCurveConfig>(
    bases: &[Affine<P>],
    digits: &[i32],
    windows: usize,
    window: usize,
    c: usize,
) -> Projective<P> {
    let mut adder = BatchAdder::<P>::new(1 << (c - 1));
    // An addition into a bucket already in the batch waits, and is tried again after each
    // flush; the batches stay full until the window's last few additions.
    let mut waiting: Vec<(usize, Affine<P>)> = Vec::new();
    for (index, base) in bases.iter().enumerate() {
        let digit = digits[index * windows + window];
        if digit == 0 {
            continue;
        }
        let bucket = digit.unsigned_abs() as usize - 1;
        let point = if digit < 0 { -*base } else { *base };
        if adder.busy[bucket] {
            waiting.push((bucket, point));
        } else if adder.add(bucket, point) {
            adder.retry(&mut waiting);
        }
    }
    while !waiting.is_empty() {
        adder.flush();
        adder.retry(&mut waiting);
    }
    adder.flush();

    let mut running = Projective::<P>::zero();
    let mut sum = Projective::<P>::zero();
    for bucket in adder.buckets.iter().rev() {
        running += bucket;
        sum += &running;
    }
    sum
}

/// Affine buckets and the additions into them waiting for their shared inversion.
struct BatchAdder<P: SWCurveConfig> {
    buckets: Vec<Affine<P>>,
    busy: Vec<bool>,
    pending: Vec<(usize, Affine<P>)>,
    /// x(point) − x(bucket) of each pending addition, inverted together.
    denominators: Vec<P::BaseField>,
    /// Scratch for the batch inversion's prefix products.
    products: Vec<P::BaseField>,
}

impl<P: SWCurveConfig> BatchAdder<P> {
    fn new(buckets: usize) -> Self {
        Self {
            buckets: vec![Affine::zero(); buckets],
            busy: vec![false; buckets],
            pending: Vec::with_capacity(BATCH),
            denominators: Vec::with_capacity(BATCH),
            products: Vec::with_capacity(BATCH),
        }
    }

    /// Adds `point` into a bucket that is not busy: at once when that needs no inversion,
    /// otherwise in the batch, which is flushed when full (then true is returned).
    fn add(&mut self, bucket: usize, point: Affine<P>) -> bool {
        if point.is_zero() {
            return false;
        }
        let current = self.buckets[bucket];
        if current.is_zero() {
            self.buckets[bucket] = point;
        } else if current.x == point.x {
            // The same point (a doubling) or its negation (zero): exceptional, done directly.
            self.buckets[bucket] = if current.y == point.y {
                current.into_group().double().into_affine()
            } else {
                Affine::zero()
            };
        } else {
            self.busy[bucket] = true;
            self.denominators.push(point.x - current.x);
            self.pending.push((bucket, point));
            if self.pending.len() == BATCH {
                self.flush();
                return true;
            }
        }
        false
    }

    /// Adds the waiting additions whose buckets are free now; the others keep waiting.
    fn retry(&mut self, waiting: &mut Vec<(usize, Affine<P>)>) {
        waiting.retain(|&(bucket, point)| {
            if self.busy[bucket] {
                return true;
            }
            self.add(bucket, point);
            false
        });
    }

    /// Completes the pending additions with one inversion: λ = (y₂ − y₁)/(x₂ − x₁),
    /// x₃ = λ² − x₁ − x₂, y₃ = λ(x₁ − x₃) − y₁.
    fn flush(&mut self) {
        invert_all(&mut self.denominators, &mut self.products);
        for (&(bucket, point), inverse) in self.pending.iter().zip(&self.denominators) {
            let current = self.buckets[bucket];
            let slope = (point.y - current.y) * inverse;
            let x = slope.square() - current.x - point.x;
            let y = slope * (current.x - x) - current.y;
            self.buckets[bucket] = Affine::new_unchecked(x, y);
            self.busy[bucket] = false;
        }
        self.pending.clear();
        self.denominators.clear();
    }
}

/// Replaces each (non-zero) value by its inverse with one field inversion (Montgomery's
/// trick: prefix products, one inverse, then back down). Serial on purpose: ark-ff's
/// `batch_inversion` splits across rayon's threads, which for a few hundred values costs
/// more than it saves, and the windows already keep every thread busy.
fn invert_all<F: Field>(values: &mut [F], products: &mut Vec<F>) {
    products.clear();
    let mut product = F::one();
    for value in values.iter() {
        products.push(product);
        product *= value;
    }
    let mut inverse = product
        .inverse()
        .expect("batch inversion of a zero denominator");
    for (value, before) in values.iter_mut().zip(products.iter()).rev() {
        let next = inverse * *value;
        *value = inverse * before;
        inverse = next;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ark_bn254::{Fr, G1Affine, G1Projective, G2Affine, G2Projective};
    use ark_ec::VariableBaseMSM;
    use ark_ff::{PrimeField, UniformRand};
    use ark_std::rand::{rngs::StdRng, SeedableRng};

    fn scalars(rng: &mut StdRng, count: usize) -> Vec<BigInteger256> {
        (0..count)
            .map(|index| match index % 7 {
                // Zero, one, r − 1 and small values beside random ones, as in real witnesses.
                0 => BigInteger256::from(0u64),
                1 => BigInteger256::from(1u64),
                2 => (-Fr::from(1u64)).into_bigint(),
                3 => BigInteger256::from(index as u64),
                _ => Fr::rand(rng).into_bigint(),
            })
            .collect()
    }

    fn check<P: SWCurveConfig>(bases: &[Affine<P>], scalars: &[BigInteger256])
    where
        Projective<P>: VariableBaseMSM<MulBase = Affine<P>>,
        <Projective<P> as ark_ec::PrimeGroup>::ScalarField: PrimeField<BigInt = BigInteger256>,
    {
        assert_eq!(
            msm(bases, scalars),
            Projective::<P>::msm_bigint(bases, scalars)
        );
    }

    #[test]
    fn equals_arkworks_on_random_and_repeated_points() {
        let mut rng = StdRng::seed_from_u64(20261203);
        for size in [1, 2, 31, 32, 100, 1000, 5000] {
            let mut g1: Vec<G1Affine> = (0..size)
                .map(|_| G1Projective::rand(&mut rng).into_affine())
                .collect();
            let mut g2: Vec<G2Affine> = (0..size)
                .map(|_| G2Projective::rand(&mut rng).into_affine())
                .collect();
            // Repeated points, negations and zeros, so doublings and cancellations happen.
            for index in (0..size).step_by(5) {
                g1[index] = g1[0];
                g2[index] = g2[0];
            }
            for index in (3..size).step_by(11) {
                g1[index] = -g1[1.min(size - 1)];
                g2[index] = G2Affine::zero();
            }
            let values = scalars(&mut rng, size);
            check(&g1, &values);
            check(&g2, &values);
        }
    }

    #[test]
    fn one_point_many_times_in_one_bucket() {
        let mut rng = StdRng::seed_from_u64(7);
        let point = G1Projective::rand(&mut rng).into_affine();
        let bases = vec![point; 3000];
        let values = vec![BigInteger256::from(3u64); 3000];
        check(&bases, &values);
    }
}
