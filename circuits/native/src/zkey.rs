//! snarkjs's binary files (`.zkey`, `.wtns`): a 4-byte magic, a u32 version, a u32 section
//! count, then sections as (u32 type, u64 size, bytes). Layout of a Groth16 zkey, from
//! snarkjs's src/zkey_utils.js:
//!   1 header: u32 protocol (1 = groth16)
//!   2 groth16 header: n8q, q, n8r, r, nVars, nPublic, domainSize, α₁, β₁, β₂, γ₂, δ₁, δ₂
//!   3 IC: nPublic + 1 G1 points
//!   4 coefficients: u32 count, then (u32 matrix, u32 constraint, u32 signal, Fr·R² in Montgomery)
//!   5 A (nVars G1), 6 B₁ (nVars G1), 7 B₂ (nVars G2), 8 C (nVars − nPublic − 1 G1),
//!   9 H (domainSize G1), 10 contributions.
//! Base-field coordinates are little-endian Montgomery form; (0, 0) is the point at infinity.

use ark_bn254::{Fq, Fq2, Fr, G1Affine, G2Affine};
use ark_ec::short_weierstrass::{Affine, SWCurveConfig};
use ark_ec::AffineRepr;
use ark_ff::{BigInteger256, PrimeField};
use rayon::prelude::*;
use std::collections::HashMap;

pub struct Cursor<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl<'a> Cursor<'a> {
    pub fn new(bytes: &'a [u8]) -> Self {
        Self { bytes, at: 0 }
    }

    pub fn bytes(&mut self, count: usize) -> Result<&'a [u8], String> {
        let end = self
            .at
            .checked_add(count)
            .filter(|end| *end <= self.bytes.len());
        let end = end.ok_or_else(|| "file is truncated".to_string())?;
        let out = &self.bytes[self.at..end];
        self.at = end;
        Ok(out)
    }

    pub fn u32(&mut self) -> Result<u32, String> {
        Ok(u32::from_le_bytes(self.bytes(4)?.try_into().unwrap()))
    }

    pub fn u64(&mut self) -> Result<u64, String> {
        Ok(u64::from_le_bytes(self.bytes(8)?.try_into().unwrap()))
    }
}

/// Section type → (offset, size) of its one occurrence.
pub fn sections(bytes: &[u8], magic: &[u8; 4]) -> Result<HashMap<u32, (usize, usize)>, String> {
    let mut cursor = Cursor::new(bytes);
    if cursor.bytes(4)? != magic {
        return Err(format!("not a {} file", String::from_utf8_lossy(magic)));
    }
    let _version = cursor.u32()?;
    let count = cursor.u32()?;
    let mut out = HashMap::new();
    for _ in 0..count {
        let kind = cursor.u32()?;
        let size = usize::try_from(cursor.u64()?).map_err(|_| "section too large".to_string())?;
        let offset = cursor.at;
        cursor.bytes(size)?;
        if out.insert(kind, (offset, size)).is_some() {
            return Err(format!("section {kind} appears twice"));
        }
    }
    Ok(out)
}

pub fn bigint_le(bytes: &[u8]) -> BigInteger256 {
    let mut limbs = [0u64; 4];
    for (limb, chunk) in limbs.iter_mut().zip(bytes.chunks_exact(8)) {
        *limb = u64::from_le_bytes(chunk.try_into().unwrap());
    }
    BigInteger256::new(limbs)
}

fn fq(bytes: &[u8]) -> Result<Fq, String> {
    let raw = bigint_le(bytes);
    if raw >= Fq::MODULUS {
        return Err("a coordinate is outside the base field".into());
    }
    Ok(Fq::new_unchecked(raw))
}

fn g1(bytes: &[u8]) -> Result<G1Affine, String> {
    let (x, y) = (fq(&bytes[..32])?, fq(&bytes[32..64])?);
    if x == Fq::from(0u8) && y == Fq::from(0u8) {
        return Ok(G1Affine::zero());
    }
    Ok(G1Affine::new_unchecked(x, y))
}

fn g2(bytes: &[u8]) -> Result<G2Affine, String> {
    let x = Fq2::new(fq(&bytes[..32])?, fq(&bytes[32..64])?);
    let y = Fq2::new(fq(&bytes[64..96])?, fq(&bytes[96..128])?);
    if x == Fq2::from(0u8) && y == Fq2::from(0u8) {
        return Ok(G2Affine::zero());
    }
    Ok(G2Affine::new_unchecked(x, y))
}

pub struct Coeff {
    pub constraint: usize,
    pub signal: usize,
    pub value: Fr,
}

pub struct ProvingKey {
    pub n_vars: usize,
    pub n_public: usize,
    pub domain_size: usize,
    pub alpha1: G1Affine,
    pub beta1: G1Affine,
    pub beta2: G2Affine,
    pub gamma2: G2Affine,
    pub delta1: G1Affine,
    pub delta2: G2Affine,
    pub ic: Vec<G1Affine>,
    pub a_coeffs: Vec<Coeff>,
    pub b_coeffs: Vec<Coeff>,
    pub a_points: Vec<G1Affine>,
    pub b1_points: Vec<G1Affine>,
    pub b2_points: Vec<G2Affine>,
    pub c_points: Vec<G1Affine>,
    pub h_points: Vec<G1Affine>,
}

/// A section of `count` points, `width` bytes each, every one checked to be on the curve.
fn point_section<P: SWCurveConfig>(
    bytes: &[u8],
    section: (usize, usize),
    count: usize,
    (group, width, parse): (&str, usize, fn(&[u8]) -> Result<Affine<P>, String>),
) -> Result<Vec<Affine<P>>, String> {
    if section.1 != count * width {
        return Err(format!(
            "a {group} section holds {} bytes, expected {}",
            section.1,
            count * width
        ));
    }
    let points: Vec<Affine<P>> = bytes[section.0..section.0 + section.1]
        .par_chunks_exact(width)
        .map(parse)
        .collect::<Result<_, _>>()?;
    if !points.par_iter().all(|point| point.is_on_curve()) {
        return Err(format!("a {group} point of the key is not on the curve"));
    }
    Ok(points)
}

const G1: (&str, usize, fn(&[u8]) -> Result<G1Affine, String>) = ("G1", 64, g1);
const G2: (&str, usize, fn(&[u8]) -> Result<G2Affine, String>) = ("G2", 128, g2);

impl ProvingKey {
    pub fn parse(bytes: &[u8]) -> Result<Self, String> {
        let sections = sections(bytes, b"zkey")?;
        let get = |kind: u32| {
            sections
                .get(&kind)
                .copied()
                .ok_or_else(|| format!("zkey has no section {kind}"))
        };

        let header = get(1)?;
        if Cursor::new(&bytes[header.0..header.0 + header.1]).u32()? != 1 {
            return Err("zkey is not a Groth16 key".into());
        }
        let groth = get(2)?;
        let mut cursor = Cursor::new(&bytes[groth.0..groth.0 + groth.1]);
        let n8q = cursor.u32()? as usize;
        let q = bigint_le(cursor.bytes(n8q)?);
        let n8r = cursor.u32()? as usize;
        let r = bigint_le(cursor.bytes(n8r)?);
        if n8q != 32 || n8r != 32 || q != Fq::MODULUS || r != Fr::MODULUS {
            return Err("zkey is not for BN254".into());
        }
        let n_vars = cursor.u32()? as usize;
        let n_public = cursor.u32()? as usize;
        let domain_size = cursor.u32()? as usize;
        if !domain_size.is_power_of_two() || n_public + 1 > n_vars {
            return Err("zkey header is inconsistent".into());
        }
        let alpha1 = g1(cursor.bytes(64)?)?;
        let beta1 = g1(cursor.bytes(64)?)?;
        let beta2 = g2(cursor.bytes(128)?)?;
        let gamma2 = g2(cursor.bytes(128)?)?;
        let delta1 = g1(cursor.bytes(64)?)?;
        let delta2 = g2(cursor.bytes(128)?)?;

        let coeffs = get(4)?;
        let mut cursor = Cursor::new(&bytes[coeffs.0..coeffs.0 + coeffs.1]);
        let count = cursor.u32()? as usize;
        let (mut a_coeffs, mut b_coeffs) = (Vec::new(), Vec::new());
        for _ in 0..count {
            let matrix = cursor.u32()?;
            let constraint = cursor.u32()? as usize;
            let signal = cursor.u32()? as usize;
            let raw = bigint_le(cursor.bytes(32)?);
            if constraint >= domain_size || signal >= n_vars || raw >= Fr::MODULUS {
                return Err("zkey coefficient out of range".into());
            }
            // Stored as value·R² in Montgomery form: two Montgomery reductions give the value.
            let value = Fr::new_unchecked(Fr::new_unchecked(raw).into_bigint());
            let coeff = Coeff {
                constraint,
                signal,
                value,
            };
            match matrix {
                0 => a_coeffs.push(coeff),
                1 => b_coeffs.push(coeff),
                _ => return Err("zkey coefficient of an unknown matrix".into()),
            }
        }

        Ok(Self {
            n_vars,
            n_public,
            domain_size,
            alpha1,
            beta1,
            beta2,
            gamma2,
            delta1,
            delta2,
            ic: point_section(bytes, get(3)?, n_public + 1, G1)?,
            a_coeffs,
            b_coeffs,
            a_points: point_section(bytes, get(5)?, n_vars, G1)?,
            b1_points: point_section(bytes, get(6)?, n_vars, G1)?,
            b2_points: point_section(bytes, get(7)?, n_vars, G2)?,
            c_points: point_section(bytes, get(8)?, n_vars - n_public - 1, G1)?,
            h_points: point_section(bytes, get(9)?, domain_size, G1)?,
        })
    }
}
