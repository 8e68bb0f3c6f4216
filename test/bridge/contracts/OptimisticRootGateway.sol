// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {GatewayBase} from "./GatewayBase.sol";

/// @title OptimisticRootGateway — TEST ONLY, deliberately vulnerable.
/// @notice Models Nomad, August 2022: the Replica contract processed a message only if the
/// message had been proven against an accepted root (`acceptableRoot(messages[leaf])`). A
/// June 2022 upgrade initialised it with a committed root of 0x00, which marked the zero
/// root as accepted; an unproven message's root is also 0x00, so every message passed.
/// After the first drain, hundreds of addresses copied its calldata, swapped in their own
/// recipient and called `process` — ~$190M in a few hours.
/// @dev Messages are released by `process` after `prove` showed them under a root that
/// guardians accepted with `update` (no signatures on the message itself: `process` emits
/// the production BridgeReleased with an empty signers array and threshold 0, then
/// `MessageProcessed(messageId, root)` with the root the message was proven against).
/// A message is replay-protected by its leaf — the whole message, recipient included — as
/// in Nomad, so the same message id with another recipient is another message.
/// The bug: `reinitialize(committedRoot)` (what the upgrade ran) accepts the zero root,
/// and the root of a message that was never proven is zero, so `process` accepts any
/// message. The production `release` path with guardian signatures is unchanged.
/// Selector: process(uint8,address,address,uint256,uint256,address,uint256) = 0xbecc5ebc.
contract OptimisticRootGateway is GatewayBase {
    bytes32 public constant ROOT_TYPEHASH = keccak256("veridis.bridge.Root.v1");

    bytes32 public committedRoot;
    mapping(bytes32 root => uint256) public confirmAt;
    mapping(bytes32 leaf => bytes32 root) public provenRoot;
    mapping(bytes32 leaf => bool) public processed;

    event MessageProcessed(bytes32 indexed messageId, bytes32 root);

    error NotProven(bytes32 leaf);
    error AlreadyProcessed(bytes32 leaf);
    error RootNotAccepted(bytes32 root);

    constructor(address initialAdmin, address[] memory guardians_, uint256 initialThreshold, bytes32 initialRoot) {
        _initialize(initialAdmin, guardians_, initialThreshold);
        _commit(initialRoot);
    }

    /// The upgrade's initialiser. Nothing stops it from committing the zero root.
    function reinitialize(bytes32 newCommittedRoot) external onlyAdmin {
        _commit(newCommittedRoot);
    }

    /// What guardians sign (EIP-191 prefixed) to accept a root of messages.
    function rootDigest(bytes32 root) public view returns (bytes32) {
        return keccak256(abi.encode(ROOT_TYPEHASH, block.chainid, address(this), root));
    }

    function update(bytes32 root, bytes[] calldata signatures) external whenNotPaused {
        _verifyQuorum(rootDigest(root), signatures);
        committedRoot = root;
        confirmAt[root] = block.timestamp;
    }

    function messageLeaf(
        ReleaseMode mode,
        address token,
        address recipient,
        uint256 amount,
        uint256 sourceChainId,
        address sourceGateway,
        uint256 nonce
    ) public view returns (bytes32) {
        return keccak256(abi.encode(block.chainid, address(this), mode, token, recipient, amount, sourceChainId, sourceGateway, nonce));
    }

    /// Proves a leaf under an accepted root: `proof` holds the siblings from the leaf up, and
    /// bit i of `index` says whether the node at level i is a right child.
    function prove(bytes32 leaf, bytes32[] calldata proof, uint256 index) public returns (bytes32 root) {
        root = leaf;
        for (uint256 i = 0; i < proof.length; i++) {
            root = ((index >> i) & 1) == 1 ? keccak256(abi.encode(proof[i], root)) : keccak256(abi.encode(root, proof[i]));
        }
        if (!acceptableRoot(root)) revert RootNotAccepted(root);
        provenRoot[leaf] = root;
    }

    function acceptableRoot(bytes32 root) public view returns (bool) {
        uint256 at = confirmAt[root];
        return at != 0 && block.timestamp >= at;
    }

    function process(
        ReleaseMode mode,
        address token,
        address recipient,
        uint256 amount,
        uint256 sourceChainId,
        address sourceGateway,
        uint256 nonce
    ) public whenNotPaused {
        bytes32 leaf = messageLeaf(mode, token, recipient, amount, sourceChainId, sourceGateway, nonce);
        if (processed[leaf]) revert AlreadyProcessed(leaf);
        bytes32 root = provenRoot[leaf];
        if (!acceptableRoot(root)) revert NotProven(leaf);
        processed[leaf] = true;
        bytes32 messageId = messageIdOf(sourceChainId, sourceGateway, nonce);
        released[messageId] = true;
        _pay(mode, token, recipient, amount);
        emit BridgeReleased(messageId, mode, recipient, token, amount, sourceChainId, nonce, new address[](0), 0);
        emit MessageProcessed(messageId, root);
    }

    function proveAndProcess(
        ReleaseMode mode,
        address token,
        address recipient,
        uint256 amount,
        uint256 sourceChainId,
        address sourceGateway,
        uint256 nonce,
        bytes32[] calldata proof,
        uint256 index
    ) external {
        prove(messageLeaf(mode, token, recipient, amount, sourceChainId, sourceGateway, nonce), proof, index);
        process(mode, token, recipient, amount, sourceChainId, sourceGateway, nonce);
    }

    function _commit(bytes32 root) private {
        committedRoot = root;
        confirmAt[root] = 1;
    }
}
