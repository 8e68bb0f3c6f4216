//! Batch verification of Groth16 proofs sharing one key, the same random linear combination
//! as consumers/verifier/batch.ts:
//!
//!   Π e(−rᵢAᵢ, Bᵢ) · e(Σ rᵢLᵢ, γ) · e(Σ rᵢCᵢ, δ) · e((Σ rᵢ)α, β) = 1
//!
//! with 128-bit random weights, n + 3 Miller loops and one final exponentiation; a failing
//! batch is bisected until every bad proof is named.

use ark_bn254::{Bn254, Fq, Fq2, Fr, G1Affine, G1Projective, G2Affine};
use ark_ec::pairing::Pairing;
use ark_ec::{AffineRepr, CurveGroup, VariableBaseMSM};
use ark_ff::{One, PrimeField, Zero};
use napi::bindgen_prelude::AsyncTask;
use napi::{Env, Error, Status, Task};
use napi_derive::napi;
use num_bigint::BigUint;
use rand::Rng;
use rayon::prelude::*;
use std::str::FromStr;
use std::sync::Arc;

type G2Prepared = <Bn254 as Pairing>::G2Prepared;

pub const VALID: u32 = 0;
pub const NOT_IN_SUBGROUP: u32 = 1;
pub const PAIRING_FAILED: u32 = 2;
pub const A_NOT_ON_CURVE: u32 = 3;
pub const B_NOT_ON_CURVE: u32 = 4;
pub const C_NOT_ON_CURVE: u32 = 5;
pub const SIGNAL_MALFORMED: u32 = 6;

fn fq(value: &str) -> Option<Fq> {
    let number = BigUint::from_str(value).ok()?;
    (number < BigUint::from(Fq::MODULUS)).then(|| Fq::from(number))
}

fn fr(value: &str) -> Option<Fr> {
    let number = BigUint::from_str(value).ok()?;
    (number < BigUint::from(Fr::MODULUS)).then(|| Fr::from(number))
}

/// (x, y) on the curve; two empty strings stand for the point at infinity.
fn g1(x: &str, y: &str) -> Option<G1Affine> {
    if x.is_empty() && y.is_empty() {
        return Some(G1Affine::zero());
    }
    let (x, y) = (fq(x)?, fq(y)?);
    let point = G1Affine::new_unchecked(x, y);
    point.is_on_curve().then_some(point)
}

fn g2(coordinates: &[String]) -> Option<G2Affine> {
    let x = Fq2::new(fq(&coordinates[0])?, fq(&coordinates[1])?);
    let y = Fq2::new(fq(&coordinates[2])?, fq(&coordinates[3])?);
    let point = G2Affine::new_unchecked(x, y);
    point.is_on_curve().then_some(point)
}

struct Key {
    alpha: G1Affine,
    beta: G2Prepared,
    gamma: G2Prepared,
    delta: G2Prepared,
    ic: Vec<G1Affine>,
}

struct Item {
    a: G1Affine,
    b: G2Affine,
    c: G1Affine,
    signals: Vec<Fr>,
}

fn random_weight() -> u128 {
    let mut rng = rand::rngs::OsRng;
    loop {
        let weight: u128 = rng.gen();
        if weight != 0 {
            return weight;
        }
    }
}

impl Key {
    fn holds(&self, items: &[&Item]) -> bool {
        let weights: Vec<u128> = items.iter().map(|_| random_weight()).collect();
        let scalars: Vec<Fr> = weights.iter().map(|weight| Fr::from(*weight)).collect();
        let mut ic_scalars = vec![Fr::zero(); self.ic.len()];
        for (item, weight) in items.iter().zip(&scalars) {
            ic_scalars[0] += weight;
            for (index, signal) in item.signals.iter().enumerate() {
                ic_scalars[index + 1] += *weight * signal;
            }
        }
        let c_bases: Vec<G1Affine> = items.iter().map(|item| item.c).collect();
        let (sums, (neg_a, b)) = rayon::join(
            || {
                let l = G1Projective::msm(&self.ic, &ic_scalars).unwrap();
                let c = G1Projective::msm(&c_bases, &scalars).unwrap();
                let alpha = self.alpha * ic_scalars[0];
                G1Projective::normalize_batch(&[l, c, alpha])
            },
            || {
                let neg_a: Vec<G1Projective> = items
                    .par_iter()
                    .zip(weights.par_iter())
                    .map(|(item, weight)| {
                        -item.a.mul_bigint([*weight as u64, (*weight >> 64) as u64])
                    })
                    .collect();
                let b: Vec<G2Prepared> = items
                    .par_iter()
                    .map(|item| G2Prepared::from(item.b))
                    .collect();
                (G1Projective::normalize_batch(&neg_a), b)
            },
        );
        let mut g1s = neg_a;
        g1s.extend(sums);
        let mut g2s = b;
        g2s.extend([self.gamma.clone(), self.delta.clone(), self.beta.clone()]);
        let out = Bn254::multi_miller_loop(g1s, g2s);
        Bn254::final_exponentiation(out).is_some_and(|out| out.0.is_one())
    }

    /// `failing`: this group is already known to hold a bad proof (its sibling half passed).
    fn settle(&self, items: &[Item], group: &[usize], failing: bool, verdicts: &mut [u32]) {
        if group.is_empty() {
            return;
        }
        let members = |part: &[usize]| part.iter().map(|&index| &items[index]).collect::<Vec<_>>();
        if !failing && self.holds(&members(group)) {
            for &index in group {
                verdicts[index] = VALID;
            }
            return;
        }
        if group.len() == 1 {
            verdicts[group[0]] = PAIRING_FAILED;
            return;
        }
        let (left, right) = group.split_at(group.len().div_ceil(2));
        let left_holds = self.holds(&members(left));
        if left_holds {
            for &index in left {
                verdicts[index] = VALID;
            }
        } else {
            self.settle(items, left, true, verdicts);
        }
        // The whole group failed: if the left half holds, the bad proof is on the right.
        self.settle(items, right, left_holds, verdicts);
    }
}

pub struct VerifyTask {
    key: Arc<Key>,
    flat: Vec<String>,
}

impl Task for VerifyTask {
    type Output = Vec<u32>;
    type JsValue = Vec<u32>;

    fn compute(&mut self) -> napi::Result<Vec<u32>> {
        let width = 8 + self.key.ic.len() - 1;
        if self.flat.len() % width != 0 {
            return Err(Error::new(
                Status::InvalidArg,
                "proof list has the wrong length".to_string(),
            ));
        }
        let count = self.flat.len() / width;
        let parsed: Vec<Result<Item, u32>> = self
            .flat
            .par_chunks_exact(width)
            .map(|fields| {
                Ok(Item {
                    a: g1(&fields[0], &fields[1]).ok_or(A_NOT_ON_CURVE)?,
                    b: g2(&fields[2..6]).ok_or(B_NOT_ON_CURVE)?,
                    c: g1(&fields[6], &fields[7]).ok_or(C_NOT_ON_CURVE)?,
                    signals: fields[8..]
                        .iter()
                        .map(|signal| fr(signal))
                        .collect::<Option<Vec<_>>>()
                        .ok_or(SIGNAL_MALFORMED)?,
                })
            })
            .collect();
        let mut verdicts = vec![VALID; count];
        // G2 has a cofactor: a point outside the order-r subgroup could make a pairing check
        // pass that should not, so the EVM precompile refuses such points and so do we.
        let subgroup: Vec<bool> = parsed
            .par_iter()
            .map(|item| {
                item.as_ref()
                    .is_ok_and(|item| item.b.is_in_correct_subgroup_assuming_on_curve())
            })
            .collect();
        let mut items = Vec::with_capacity(count);
        let mut candidates = Vec::with_capacity(count);
        for (index, item) in parsed.into_iter().enumerate() {
            let item = match item {
                Ok(item) => item,
                Err(code) => {
                    verdicts[index] = code;
                    items.push(Item {
                        a: G1Affine::zero(),
                        b: G2Affine::zero(),
                        c: G1Affine::zero(),
                        signals: vec![],
                    });
                    continue;
                }
            };
            items.push(item);
            if subgroup[index] {
                candidates.push(index);
            } else {
                verdicts[index] = NOT_IN_SUBGROUP;
            }
        }
        self.key.settle(&items, &candidates, false, &mut verdicts);
        Ok(verdicts)
    }

    fn resolve(&mut self, _env: Env, output: Vec<u32>) -> napi::Result<Vec<u32>> {
        Ok(output)
    }
}

/// One verification key, prepared once (β, γ, δ's line coefficients).
#[napi]
pub struct Groth16BatchVerifier {
    key: Arc<Key>,
}

#[napi]
impl Groth16BatchVerifier {
    /// `key`: α (x, y), β, γ, δ (x₀, x₁, y₀, y₁ each), then IC₀..ICₙ (x, y each), decimal.
    #[napi(constructor)]
    pub fn new(key: Vec<String>) -> napi::Result<Self> {
        let malformed =
            |what: &str| Error::new(Status::InvalidArg, format!("verification key: {what}"));
        if key.len() < 16 || (key.len() - 14) % 2 != 0 {
            return Err(malformed("wrong number of coordinates"));
        }
        let alpha = g1(&key[0], &key[1]).ok_or_else(|| malformed("vk_alpha_1"))?;
        let prepared = |at: usize, what: &str| {
            let point = g2(&key[at..at + 4]).ok_or_else(|| malformed(what))?;
            if !point.is_in_correct_subgroup_assuming_on_curve() {
                return Err(malformed(what));
            }
            Ok(G2Prepared::from(point))
        };
        let ic = key[14..]
            .chunks_exact(2)
            .map(|xy| g1(&xy[0], &xy[1]).ok_or_else(|| malformed("IC")))
            .collect::<napi::Result<Vec<_>>>()?;
        Ok(Self {
            key: Arc::new(Key {
                alpha,
                beta: prepared(2, "vk_beta_2")?,
                gamma: prepared(6, "vk_gamma_2")?,
                delta: prepared(10, "vk_delta_2")?,
                ic,
            }),
        })
    }

    /// Verdict codes in input order (0 valid, 1 piB outside the subgroup, 2 pairing failed,
    /// 3/4/5 piA/piB/piC not on the curve, 6 a public signal malformed) for proofs laid end to end: A (x, y), B (x₀, x₁, y₀, y₁), C (x, y), signals.
    #[napi(ts_return_type = "Promise<number[]>")]
    pub fn verify(&self, proofs: Vec<String>) -> AsyncTask<VerifyTask> {
        AsyncTask::new(VerifyTask {
            key: self.key.clone(),
            flat: proofs,
        })
    }
}
