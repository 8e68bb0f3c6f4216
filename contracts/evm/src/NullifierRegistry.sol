// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {Roles} from "./Roles.sol";

/// @notice Remembers which nullifiers were used in which scope on this chain and refuses a
/// second use. Two writers: the PROTOCOL role (the application contract or service that
/// verified a membership proof) and the RELAYER role (the propagation relayer copying a use
/// first seen on another chain, so a nullifier spent on chain A is spent on chain B too).
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

    error NullifierAlreadyUsed(uint256 scope, uint256 nullifier);
    error EmptyOriginChain();

    constructor(address initialAdmin) Roles(initialAdmin) {}

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

    function _markUsed(uint256 scope, uint256 nullifier) private {
        if (_used[scope][nullifier]) revert NullifierAlreadyUsed(scope, nullifier);
        _used[scope][nullifier] = true;
    }
}
