pragma circom 2.1.5;

include "circomlib/circuits/poseidon.circom";
include "./merkle.circom";

// Cryptographic erasure: the subject's data key commitment
// Poseidon(subjectHash, dataKey) sat at a position of the erasure tree under oldRoot,
// and newRoot is the same tree with that leaf replaced by the subject's tombstone
// Poseidon(TOMBSTONE_TAG, subjectHash). The shared path proves nothing else changed.
// The data key stays private; subjectHash is the keyed hash the audit trail cites.
template Erasure(depth) {
    // "veridis.erasure.tombstone" as a big-endian integer: a domain tag, so a
    // tombstone can never equal a key commitment of the same subject.
    var TOMBSTONE_TAG = 0x766572696469732e657261737572652e746f6d6273746f6e65;

    signal input dataKey;
    signal input siblings[depth];
    signal input pathIndices[depth];

    signal input subjectHash;
    signal input oldRoot;
    signal input newRoot;

    component commitment = Poseidon(2);
    commitment.inputs[0] <== subjectHash;
    commitment.inputs[1] <== dataKey;

    component tombstone = Poseidon(2);
    tombstone.inputs[0] <== TOMBSTONE_TAG;
    tombstone.inputs[1] <== subjectHash;

    component before = MerkleRoot(depth);
    component after = MerkleRoot(depth);
    before.leaf <== commitment.out;
    after.leaf <== tombstone.out;
    for (var i = 0; i < depth; i++) {
        before.siblings[i] <== siblings[i];
        before.pathIndices[i] <== pathIndices[i];
        after.siblings[i] <== siblings[i];
        after.pathIndices[i] <== pathIndices[i];
    }
    before.root === oldRoot;
    after.root === newRoot;
}

component main {public [subjectHash, oldRoot, newRoot]} = Erasure(20);
