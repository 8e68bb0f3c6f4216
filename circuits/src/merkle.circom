pragma circom 2.1.5;

include "circomlib/circuits/poseidon.circom";

// Root of a fixed-depth binary Poseidon Merkle tree from one leaf and its path.
// pathIndices[i] is 1 when the node at level i is the right child. Each index is
// constrained to a bit: a non-binary index would otherwise mix the node and its
// sibling into a value that is in no tree at all.
template MerkleRoot(depth) {
    signal input leaf;
    signal input siblings[depth];
    signal input pathIndices[depth];
    signal output root;

    signal nodes[depth + 1];
    signal left[depth];
    component hashers[depth];

    nodes[0] <== leaf;
    for (var i = 0; i < depth; i++) {
        pathIndices[i] * (1 - pathIndices[i]) === 0;
        left[i] <== nodes[i] + pathIndices[i] * (siblings[i] - nodes[i]);
        hashers[i] = Poseidon(2);
        hashers[i].inputs[0] <== left[i];
        hashers[i].inputs[1] <== nodes[i] + siblings[i] - left[i];
        nodes[i + 1] <== hashers[i].out;
    }
    root <== nodes[depth];
}
