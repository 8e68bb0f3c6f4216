// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {Roles} from "./Roles.sol";

/// The snarkjs-exported Groth16 verifier of Semaphore v4's identity-membership circuit
/// (src/verifiers/SemaphoreDepth20Verifier.sol): public signals merkleTreeRoot, nullifier,
/// hash(message), hash(scope).
interface IMembershipVerifier {
    function verifyProof(
        uint256[2] calldata pA,
        uint256[2][2] calldata pB,
        uint256[2] calldata pC,
        uint256[4] calldata pubSignals
    ) external view returns (bool);
}

/// @notice Remembers which nullifiers were used in which scope on this chain and refuses a
/// second use. Two writers: the PROTOCOL role (the application contract or service that
/// verified a membership proof) and the RELAYER role (the propagation relayer copying a use
/// first seen on another chain, so a nullifier spent on chain A is spent on chain B too).
/// And anyone with a valid Semaphore v4 proof (`useNullifierWithProof`): the proof is the
/// authorisation, verified here, and the event carries it so off-chain verifiers can check
/// the same fact without trusting this chain.
contract NullifierRegistry is Roles {
    bytes32 public constant PROTOCOL = keccak256("veridis.nullifier.PROTOCOL");
    bytes32 public constant RELAYER = keccak256("veridis.nullifier.RELAYER");

    mapping(uint256 scope => mapping(uint256 nullifier => bool)) private _used;

    /// A verified proof used the nullifier on this chain.
    event NullifierUsed(uint256 indexed scope, uint256 indexed nullifier, uint256 merkleTreeRoot, address indexed by);
    /// The relayer recorded a use first seen on `originChain` (CAIP-2, e.g. "eip155:31337").
    event NullifierRelayed(
        uint256 indexed scope, uint256 indexed nullifier, uint256 merkleTreeRoot, string originChain, address indexed by
    );

    /// A Semaphore v4 proof verified on this chain used the nullifier. `points` are packed the
    /// way Semaphore packs them (pA, pB with each pair as imaginary, real, pC), `publicSignals`
    /// are exactly what the verifier checked: merkleTreeRoot, nullifier, hash(message), hash(scope).
    event NullifierUsedWithProof(
        uint256 indexed scope,
        uint256 indexed nullifier,
        uint256 merkleTreeRoot,
        uint256 message,
        uint256[8] points,
        uint256[4] publicSignals,
        address indexed by
    );

    error NullifierAlreadyUsed(uint256 scope, uint256 nullifier);
    error EmptyOriginChain();
    error InvalidProof(uint256 scope, uint256 nullifier);
    error ZeroVerifier();

    /// Verifies depth-20 Semaphore v4 proofs (the tree depth of its verification key). Set once,
    /// in the constructor. Storage, not `immutable`: an immutable is written into the runtime
    /// code, which then differs from the artifact's, and deploy.ts recognises a current
    /// deployment by comparing the two.
    IMembershipVerifier public membershipVerifier;

    constructor(address initialAdmin, IMembershipVerifier verifier) Roles(initialAdmin) {
        if (address(verifier) == address(0)) revert ZeroVerifier();
        membershipVerifier = verifier;
    }

    function isUsed(uint256 scope, uint256 nullifier) external view returns (bool) {
        return _used[scope][nullifier];
    }

    function recordUse(uint256 scope, uint256 nullifier, uint256 merkleTreeRoot) external onlyRole(PROTOCOL) {
        _markUsed(scope, nullifier);
        emit NullifierUsed(scope, nullifier, merkleTreeRoot, msg.sender);
    }

    /// Several verified proofs of one scope in one transaction (a batch verifier's output).
    function recordUses(uint256 scope, uint256[] calldata nullifiers, uint256 merkleTreeRoot)
        external
        onlyRole(PROTOCOL)
    {
        for (uint256 i = 0; i < nullifiers.length; i++) {
            _markUsed(scope, nullifiers[i]);
            emit NullifierUsed(scope, nullifiers[i], merkleTreeRoot, msg.sender);
        }
    }

    function recordRelayed(uint256 scope, uint256 nullifier, uint256 merkleTreeRoot, string calldata originChain)
        external
        onlyRole(RELAYER)
    {
        if (bytes(originChain).length == 0) revert EmptyOriginChain();
        _markUsed(scope, nullifier);
        emit NullifierRelayed(scope, nullifier, merkleTreeRoot, originChain, msg.sender);
    }

    /// Semaphore v4's `validateProof` without groups: this registry keeps none, so the root is
    /// recorded in the event, not checked; whoever relies on the use decides which roots it
    /// accepts (the verifier consumer re-verifies the proof and its signals). Message and
    /// scope enter the circuit hashed as Semaphore hashes them, so proofs made by Semaphore's
    /// own proof library verify unchanged.
    function useNullifierWithProof(
        uint256 merkleTreeRoot,
        uint256 nullifier,
        uint256 message,
        uint256 scope,
        uint256[8] calldata points
    ) external {
        _markUsed(scope, nullifier);
        uint256[4] memory publicSignals = [merkleTreeRoot, nullifier, _hash(message), _hash(scope)];
        if (
            !membershipVerifier.verifyProof(
                [points[0], points[1]],
                [[points[2], points[3]], [points[4], points[5]]],
                [points[6], points[7]],
                publicSignals
            )
        ) revert InvalidProof(scope, nullifier);
        emit NullifierUsedWithProof(scope, nullifier, merkleTreeRoot, message, points, publicSignals, msg.sender);
    }

    /// Semaphore v4's hash: keccak256 of the 32-byte value, shifted right 8 bits into the field.
    function _hash(uint256 value) private pure returns (uint256) {
        return uint256(keccak256(abi.encodePacked(value))) >> 8;
    }

    function _markUsed(uint256 scope, uint256 nullifier) private {
        if (_used[scope][nullifier]) revert NullifierAlreadyUsed(scope, nullifier);
        _used[scope][nullifier] = true;
    }
}
