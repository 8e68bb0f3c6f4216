//! ECDSA public-key recovery over secp256k1 for the bridge guard, as a Node addon: Bitcoin
//! Core's libsecp256k1 compiled natively (the `secp256k1` crate), where the JavaScript side
//! otherwise runs its WebAssembly build (tiny-secp256k1) at about five times the cost.
//!
//! Only the curve work is here. Parsing a signature (v, the range of s) and turning a public
//! key into an address stay in producers/chains/evm/bridge/release-signatures.ts, so what is
//! accepted and refused is decided in one place whichever backend recovers.

use napi::bindgen_prelude::{AsyncTask, Buffer};
use napi::{Env, Error, Result, Status, Task};
use napi_derive::napi;
use secp256k1::ecdsa::{RecoverableSignature, RecoveryId};
use secp256k1::{Message, Secp256k1, VerifyOnly};
use std::sync::LazyLock;

/// One verification context for the process: building it costs far more than a recovery.
static CONTEXT: LazyLock<Secp256k1<VerifyOnly>> = LazyLock::new(Secp256k1::verification_only);

/// Bytes of one signature as the addon takes it: r, s (32 bytes each, big-endian), recovery id.
const SIGNATURE: usize = 65;
/// Bytes of one answer: a status, then the public key's x and y (zero unless recovered).
const ANSWER: usize = 65;

/// The status byte of each answer.
const RECOVERED: u8 = 0;
const RECOVERY_ID_OUT_OF_RANGE: u8 = 1;
const SCALAR_OUT_OF_RANGE: u8 = 2;
const NO_PUBLIC_KEY: u8 = 3;

fn recover_one(digest: [u8; 32], signature: &[u8]) -> ([u8; 64], u8) {
    let none = [0u8; 64];
    let Ok(id) = RecoveryId::try_from(i32::from(signature[64])) else {
        return (none, RECOVERY_ID_OUT_OF_RANGE);
    };
    let Ok(parsed) = RecoverableSignature::from_compact(&signature[..64], id) else {
        return (none, SCALAR_OUT_OF_RANGE);
    };
    match CONTEXT.recover_ecdsa(Message::from_digest(digest), &parsed) {
        Ok(key) => {
            let mut xy = [0u8; 64];
            xy.copy_from_slice(&key.serialize_uncompressed()[1..]);
            (xy, RECOVERED)
        }
        Err(_) => (none, NO_PUBLIC_KEY),
    }
}

/// Recovers the public key of each signature over one 32-byte digest. `signatures` holds them
/// end to end (65 bytes each); the answer holds, per signature in order, a status byte
/// (0 recovered, 1 recovery id not 0–3, 2 r or s not below the curve order, 3 no public key
/// for this digest) and the 64-byte uncompressed key without its 0x04 prefix.
#[napi]
pub fn recover_public_keys(digest: Buffer, signatures: Buffer) -> Result<Buffer> {
    let digest: [u8; 32] = digest.as_ref().try_into().map_err(|_| {
        Error::new(
            Status::InvalidArg,
            format!("the digest is {} bytes, not 32", digest.len()),
        )
    })?;
    if signatures.len() % SIGNATURE != 0 {
        return Err(Error::new(
            Status::InvalidArg,
            format!(
                "{} bytes of signatures is not a whole number of 65-byte signatures",
                signatures.len()
            ),
        ));
    }
    let mut answers = Vec::with_capacity(signatures.len() / SIGNATURE * ANSWER);
    for signature in signatures.chunks_exact(SIGNATURE) {
        let (key, status) = recover_one(digest, signature);
        answers.push(status);
        answers.extend_from_slice(&key);
    }
    Ok(answers.into())
}

/// Many signatures, each over its own digest, recovered on a thread of libuv's pool: the
/// bridge guard asks for a whole chunk's signatures at once while it waits for the chains, so
/// the curve work leaves the event loop.
pub struct RecoverBatch {
    digests: Vec<u8>,
    signatures: Vec<u8>,
}

impl Task for RecoverBatch {
    type Output = Vec<u8>;
    type JsValue = Buffer;

    fn compute(&mut self) -> Result<Vec<u8>> {
        let mut answers = Vec::with_capacity(self.signatures.len() / SIGNATURE * ANSWER);
        for (digest, signature) in self
            .digests
            .chunks_exact(32)
            .zip(self.signatures.chunks_exact(SIGNATURE))
        {
            let (key, status) = recover_one(digest.try_into().expect("32-byte chunks"), signature);
            answers.push(status);
            answers.extend_from_slice(&key);
        }
        Ok(answers)
    }

    fn resolve(&mut self, _env: Env, output: Vec<u8>) -> Result<Buffer> {
        Ok(output.into())
    }
}

/// As `recover_public_keys`, for n signatures (65 bytes each, end to end) each over its own
/// digest (32 bytes each, in the same order), off the event loop; the answer has the same layout.
#[napi]
pub fn recover_public_keys_batch(
    digests: Buffer,
    signatures: Buffer,
) -> Result<AsyncTask<RecoverBatch>> {
    if digests.len() % 32 != 0
        || signatures.len() % SIGNATURE != 0
        || digests.len() / 32 != signatures.len() / SIGNATURE
    {
        return Err(Error::new(
            Status::InvalidArg,
            format!(
                "{} bytes of digests and {} bytes of signatures are not n 32-byte digests and n 65-byte signatures",
                digests.len(),
                signatures.len()
            ),
        ));
    }
    Ok(AsyncTask::new(RecoverBatch {
        digests: digests.to_vec(),
        signatures: signatures.to_vec(),
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use secp256k1::SecretKey;

    #[test]
    fn recovers_the_signer_and_refuses_what_does_not_recover() {
        let signer = Secp256k1::new();
        let secret = SecretKey::from_byte_array([7u8; 32]).unwrap();
        let digest = [42u8; 32];
        let signature = signer.sign_ecdsa_recoverable(Message::from_digest(digest), &secret);
        let (id, compact) = signature.serialize_compact();
        let mut bytes = compact.to_vec();
        bytes.push(i32::from(id) as u8);
        let expected = secret.public_key(&signer).serialize_uncompressed();

        let (key, status) = recover_one(digest, &bytes);
        assert_eq!(status, RECOVERED);
        assert_eq!(key[..], expected[1..]);

        let mut other = digest;
        other[0] ^= 1;
        let (key, status) = recover_one(other, &bytes);
        assert_eq!(status, RECOVERED);
        assert_ne!(key[..], expected[1..]);

        let mut bad_id = bytes.clone();
        bad_id[64] = 4;
        assert_eq!(recover_one(digest, &bad_id).1, RECOVERY_ID_OUT_OF_RANGE);
        let mut overflow = bytes.clone();
        overflow[32..64].fill(0xff);
        assert_eq!(recover_one(digest, &overflow).1, SCALAR_OUT_OF_RANGE);
        let mut zero_r = bytes.clone();
        zero_r[..32].fill(0);
        assert_eq!(recover_one(digest, &zero_r).1, NO_PUBLIC_KEY);

        // The batch answers each signature over its own digest, in order.
        let mut batch = RecoverBatch {
            digests: [digest, other, digest].concat(),
            signatures: [bytes.clone(), bytes.clone(), overflow].concat(),
        };
        let answers = batch.compute().unwrap();
        assert_eq!(answers.len(), 3 * ANSWER);
        assert_eq!((answers[0], &answers[1..65]), (RECOVERED, &expected[1..]));
        assert_eq!(answers[65], RECOVERED);
        assert_ne!(&answers[66..130], &expected[1..]);
        assert_eq!(answers[130], SCALAR_OUT_OF_RANGE);
    }
}
