pragma circom 2.1.5;

include "circomlib/circuits/poseidon.circom";
include "circomlib/circuits/eddsaposeidon.circom";
include "circomlib/circuits/bitify.circom";
include "./merkle.circom";

// Selective disclosure of an issuer-signed credential.
//
// The credential is Poseidon(holderCommitment, fields[0..n-1]) with
// holderCommitment = Poseidon(holderSecret), signed by the issuer with EdDSA-Poseidon
// on BabyJubJub, and a leaf of the issuer's attestation tree (root published on chain).
// The holder proves all of that while revealing only the fields selected by
// discloseMask (bit i set: field i is output, otherwise 0 is output).
//
// The nullifier is Poseidon(holderSecret, applicationId, scope): binding the
// application into the hash means two applications that pick the same scope value
// still get unrelated nullifiers.
template AttestationDisclosure(nFields, depth) {
    // private
    signal input holderSecret;
    signal input fields[nFields];
    signal input signatureR8[2];
    signal input signatureS;
    signal input siblings[depth];
    signal input pathIndices[depth];

    // public
    signal input issuerPublicKey[2];
    signal input discloseMask;
    signal input applicationId;
    signal input scope;
    signal input message;

    signal output attestationRoot;
    signal output nullifier;
    signal output disclosed[nFields];

    component holderCommitment = Poseidon(1);
    holderCommitment.inputs[0] <== holderSecret;

    component credential = Poseidon(nFields + 1);
    credential.inputs[0] <== holderCommitment.out;
    for (var i = 0; i < nFields; i++) {
        credential.inputs[i + 1] <== fields[i];
    }

    // Checks S < subgroup order and R8 on the curve; fails for any forged signature.
    component signature = EdDSAPoseidonVerifier();
    signature.enabled <== 1;
    signature.Ax <== issuerPublicKey[0];
    signature.Ay <== issuerPublicKey[1];
    signature.R8x <== signatureR8[0];
    signature.R8y <== signatureR8[1];
    signature.S <== signatureS;
    signature.M <== credential.out;

    component tree = MerkleRoot(depth);
    tree.leaf <== credential.out;
    for (var i = 0; i < depth; i++) {
        tree.siblings[i] <== siblings[i];
        tree.pathIndices[i] <== pathIndices[i];
    }
    attestationRoot <== tree.root;

    // Num2Bits(nFields) also bounds the mask below 2^nFields.
    component mask = Num2Bits(nFields);
    mask.in <== discloseMask;
    for (var i = 0; i < nFields; i++) {
        disclosed[i] <== fields[i] * mask.out[i];
    }

    component nullifierHash = Poseidon(3);
    nullifierHash.inputs[0] <== holderSecret;
    nullifierHash.inputs[1] <== applicationId;
    nullifierHash.inputs[2] <== scope;
    nullifier <== nullifierHash.out;

    // Binds the message into the proof so it cannot be replayed with another one.
    signal messageSquare <== message * message;
}

component main {public [issuerPublicKey, discloseMask, applicationId, scope, message]} = AttestationDisclosure(8, 20);
