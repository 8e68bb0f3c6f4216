//! Groth16 over BN254 for snarkjs artifacts, as a Node addon: a prover that reads the
//! circuit's `.zkey` and a witness in snarkjs's `.wtns` layout (the witness itself still comes
//! from the circuit's wasm), and a batch verifier for proofs sharing one verification key.
//!
//! The prover follows snarkjs's `groth16_prove.js` step for step (the zkey's H points are
//! for snarkjs's odd-coset evaluation of A·B − C, so the quotient is never divided here),
//! which keeps its proofs interchangeable with snarkjs's and the exported Solidity
//! verifiers'. Every proof is checked against the key before it is returned: snarkjs would
//! hand back an invalid proof for a witness that does not satisfy the circuit, this refuses.

mod batch;
mod msm;
mod zkey;

use ark_bn254::{Bn254, Fq, Fr, G1Affine, G1Projective, G2Affine};
use ark_ec::pairing::Pairing;
use ark_ec::{AffineRepr, CurveGroup, VariableBaseMSM};
use ark_ff::{BigInteger256, One, PrimeField, UniformRand, Zero};
use ark_poly::{EvaluationDomain, Radix2EvaluationDomain};
use napi::bindgen_prelude::{AsyncTask, Buffer};
use napi::{Env, Error, Status, Task};
use napi_derive::napi;
use num_bigint::BigUint;
use rayon::prelude::*;
use std::sync::Arc;

pub use batch::Groth16BatchVerifier;
use zkey::ProvingKey;

pub(crate) fn decimal_fq(value: &Fq) -> String {
    BigUint::from(value.into_bigint()).to_string()
}

pub(crate) fn decimal_fr(value: &Fr) -> String {
    BigUint::from(value.into_bigint()).to_string()
}

fn invalid(message: impl Into<String>) -> Error {
    Error::new(Status::InvalidArg, message.into())
}

/// A proof in snarkjs's JSON layout (affine, decimal strings, projective z included).
#[napi(object)]
pub struct NativeProof {
    pub pi_a: Vec<String>,
    pub pi_b: Vec<Vec<String>>,
    pub pi_c: Vec<String>,
    pub public_signals: Vec<String>,
}

fn g1_json(point: &G1Affine) -> Vec<String> {
    match point.xy() {
        Some((x, y)) => vec![decimal_fq(&x), decimal_fq(&y), "1".into()],
        None => vec!["0".into(), "1".into(), "0".into()],
    }
}

fn g2_json(point: &G2Affine) -> Vec<Vec<String>> {
    match point.xy() {
        Some((x, y)) => vec![
            vec![decimal_fq(&x.c0), decimal_fq(&x.c1)],
            vec![decimal_fq(&y.c0), decimal_fq(&y.c1)],
            vec!["1".into(), "0".into()],
        ],
        None => vec![
            vec!["0".into(), "0".into()],
            vec!["1".into(), "0".into()],
            vec!["0".into(), "0".into()],
        ],
    }
}

/// The witness of a `.wtns` file (snarkjs's binary layout, version 2): canonical scalars.
fn read_witness(bytes: &[u8], key: &ProvingKey) -> napi::Result<Vec<BigInteger256>> {
    let sections = zkey::sections(bytes, b"wtns").map_err(invalid)?;
    let header = sections
        .get(&1)
        .ok_or_else(|| invalid("witness has no header section"))?;
    let mut cursor = zkey::Cursor::new(&bytes[header.0..header.0 + header.1]);
    let n8 = cursor.u32().map_err(invalid)? as usize;
    if n8 != 32 {
        return Err(invalid("witness is not over a 32-byte field"));
    }
    let prime = cursor.bytes(32).map_err(invalid)?;
    if zkey::bigint_le(prime) != Fr::MODULUS {
        return Err(invalid("witness is not over the BN254 scalar field"));
    }
    let count = cursor.u32().map_err(invalid)? as usize;
    if count != key.n_vars {
        return Err(invalid(format!(
            "witness has {count} values, the circuit has {} signals",
            key.n_vars
        )));
    }
    let values = sections
        .get(&2)
        .ok_or_else(|| invalid("witness has no values section"))?;
    if values.1 != count * 32 {
        return Err(invalid("witness values section has the wrong size"));
    }
    let data = &bytes[values.0..values.0 + values.1];
    let witness: Vec<BigInteger256> = data.chunks_exact(32).map(zkey::bigint_le).collect();
    if witness.iter().any(|value| *value >= Fr::MODULUS) {
        return Err(invalid("witness holds a value outside the scalar field"));
    }
    if witness[0] != BigInteger256::from(1u64) {
        return Err(invalid("witness does not start with the constant 1"));
    }
    Ok(witness)
}

/// The proof for a witness, following snarkjs's groth16_prove.js.
fn prove(key: &ProvingKey, witness: &[BigInteger256]) -> napi::Result<NativeProof> {
    let n = key.domain_size;
    let scalars: Vec<Fr> = witness
        .par_iter()
        .map(|value| Fr::from_bigint(*value).unwrap())
        .collect();

    // A·w and B·w at every constraint (the zkey's A carries the public-input constraints),
    // then C·w = A·w ∘ B·w as snarkjs takes it.
    let evaluate = |coeffs: &[zkey::Coeff]| {
        let mut out = vec![Fr::zero(); n];
        for coeff in coeffs {
            out[coeff.constraint] += coeff.value * scalars[coeff.signal];
        }
        out
    };
    let (mut a, mut b) = rayon::join(|| evaluate(&key.a_coeffs), || evaluate(&key.b_coeffs));
    let mut c: Vec<Fr> = a
        .par_iter()
        .zip(b.par_iter())
        .map(|(x, y)| *x * y)
        .collect();

    let domain = Radix2EvaluationDomain::<Fr>::new(n).ok_or_else(|| invalid("domain too large"))?;
    let shift = Radix2EvaluationDomain::<Fr>::new(2 * n)
        .ok_or_else(|| invalid("domain too large"))?
        .group_gen();
    let coset = domain.get_coset(shift).ok_or_else(|| invalid("no coset"))?;
    let to_coset = |values: &mut Vec<Fr>| {
        domain.ifft_in_place(values);
        coset.fft_in_place(values);
    };
    rayon::join(
        || to_coset(&mut a),
        || rayon::join(|| to_coset(&mut b), || to_coset(&mut c)),
    );
    let h: Vec<BigInteger256> = a
        .par_iter()
        .zip(b.par_iter())
        .zip(c.par_iter())
        .map(|((x, y), z)| (*x * y - z).into_bigint())
        .collect();
    drop((a, b, c));

    let private = &witness[key.n_public + 1..];
    let ((pi_a, pi_b1), (pi_b, (pi_c, pi_h))) = rayon::join(
        || {
            rayon::join(
                || msm::msm(&key.a_points, witness),
                || msm::msm(&key.b1_points, witness),
            )
        },
        || {
            rayon::join(
                || msm::msm(&key.b2_points, witness),
                || {
                    rayon::join(
                        || msm::msm(&key.c_points, private),
                        || msm::msm(&key.h_points, &h),
                    )
                },
            )
        },
    );

    let mut rng = rand::rngs::OsRng;
    let r = Fr::rand(&mut rng);
    let s = Fr::rand(&mut rng);
    let pi_a = pi_a + key.alpha1 + key.delta1 * r;
    let pi_b = pi_b + key.beta2 + key.delta2 * s;
    let pi_b1 = pi_b1 + key.beta1 + key.delta1 * s;
    let pi_c = pi_c + pi_h + pi_a * s + pi_b1 * r - key.delta1 * (r * s);
    let (pi_a, pi_b, pi_c) = (pi_a.into_affine(), pi_b.into_affine(), pi_c.into_affine());

    let public: Vec<Fr> = scalars[1..=key.n_public].to_vec();
    if !key.verifies(&pi_a, &pi_b, &pi_c, &public) {
        return Err(invalid(
            "witness does not satisfy the circuit: the proof does not verify",
        ));
    }
    Ok(NativeProof {
        pi_a: g1_json(&pi_a),
        pi_b: g2_json(&pi_b),
        pi_c: g1_json(&pi_c),
        public_signals: public.iter().map(decimal_fr).collect(),
    })
}

impl ProvingKey {
    /// e(A,B) = e(α,β)·e(L,γ)·e(C,δ), with L = IC₀ + Σ signalᵢ·ICᵢ.
    fn verifies(&self, a: &G1Affine, b: &G2Affine, c: &G1Affine, public: &[Fr]) -> bool {
        let l = self.ic[0].into_group() + G1Projective::msm(&self.ic[1..], public).unwrap();
        let lhs = Bn254::multi_miller_loop(
            [(-*a), self.alpha1, l.into_affine(), *c],
            [*b, self.beta2, self.gamma2, self.delta2],
        );
        Bn254::final_exponentiation(lhs).is_some_and(|out| out.0.is_one())
    }
}

pub struct ProveTask {
    key: Arc<ProvingKey>,
    witness: Vec<u8>,
}

impl Task for ProveTask {
    type Output = NativeProof;
    type JsValue = NativeProof;

    fn compute(&mut self) -> napi::Result<NativeProof> {
        let witness = read_witness(&self.witness, &self.key)?;
        prove(&self.key, &witness)
    }

    fn resolve(&mut self, _env: Env, output: NativeProof) -> napi::Result<NativeProof> {
        Ok(output)
    }
}

/// One circuit's proving key, loaded once; proofs run on the libuv pool with rayon's threads.
#[napi]
pub struct Groth16Prover {
    key: Arc<ProvingKey>,
}

#[napi]
impl Groth16Prover {
    #[napi(constructor)]
    pub fn new(zkey_path: String) -> napi::Result<Self> {
        let bytes = std::fs::read(&zkey_path).map_err(|error| {
            Error::new(Status::GenericFailure, format!("cannot read zkey: {error}"))
        })?;
        let key = ProvingKey::parse(&bytes).map_err(invalid)?;
        Ok(Self { key: Arc::new(key) })
    }

    #[napi(getter)]
    pub fn n_public(&self) -> u32 {
        self.key.n_public as u32
    }

    #[napi(getter)]
    pub fn n_vars(&self) -> u32 {
        self.key.n_vars as u32
    }

    /// The proof for a witness in `.wtns` layout; rejects a witness that does not satisfy the circuit.
    #[napi(ts_return_type = "Promise<NativeProof>")]
    pub fn prove(&self, witness: Buffer) -> AsyncTask<ProveTask> {
        AsyncTask::new(ProveTask {
            key: self.key.clone(),
            witness: witness.to_vec(),
        })
    }
}

/// Threads rayon uses (the global pool, sized to the machine's cores).
#[napi]
pub fn thread_count() -> u32 {
    rayon::current_num_threads() as u32
}
