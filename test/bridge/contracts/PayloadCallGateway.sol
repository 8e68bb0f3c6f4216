// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {GatewayBase} from "./GatewayBase.sol";

/// @title PayloadCallGateway — TEST ONLY, deliberately vulnerable.
/// @notice Models Poly Network, August 2021: a cross-chain message, genuinely sent on the
/// source chain and genuinely relayed, asked the EthCrossChainManager to call
/// EthCrossChainData.putCurEpochConPubKeyBytes — a keeper-set setter callable only by its
/// owner, which was the manager itself. The keeper set became the attacker's key, who then
/// signed releases of ~$611M. No governance action took place.
/// @dev A transfer may carry a call: `lockWithCall` on the source records a target and a
/// payload (in its calldata; the event is the production BridgeLocked), guardians sign
/// `callDigest` (the production release digest bound to the target and the payload's hash), and
/// `releaseWithCall` pays the transfer and then executes `target.call(payload)`.
/// The bug: the target may be the gateway itself, and the gateway trusts calls from itself
/// as governance (`_isGovernance(address(this))`), so a payload encoding
/// `setGuardians(address[],uint256)` replaces the guardian set in a transaction the attacker
/// sends; GuardianSetChanged is emitted from it.
/// Selectors: releaseWithCall((uint8,address,address,uint256,uint256,address,uint256),address,bytes,bytes[]) = 0x6c334009,
/// lockWithCall(uint8,address,uint256,uint256,address,address,bytes) = 0x1c34ad26,
/// setGuardians(address[],uint256) = 0x876b4e0d.
contract PayloadCallGateway is GatewayBase {
    bytes32 public constant CALL_TYPEHASH = keccak256("veridis.bridge.ReleaseWithCall.v1");

    error CallFailed(bytes reason);

    constructor(address initialAdmin, address[] memory guardians_, uint256 initialThreshold) {
        _initialize(initialAdmin, guardians_, initialThreshold);
    }

    /// A lock whose release on the destination also makes `target` run `payload`.
    function lockWithCall(
        LockMode mode,
        address token,
        uint256 amount,
        uint256 destinationChainId,
        address recipient,
        address target,
        bytes calldata payload
    ) external returns (bytes32 messageId) {
        // The call travels in this transaction's calldata; guardians read it from there.
        target;
        payload;
        return lock(mode, token, amount, destinationChainId, recipient);
    }

    /// A release as one calldata tuple (keeps releaseWithCall within the EVM's stack reach).
    struct Transfer {
        ReleaseMode mode;
        address token;
        address recipient;
        uint256 amount;
        uint256 sourceChainId;
        address sourceGateway;
        uint256 nonce;
    }

    /// What guardians sign to release a transfer that carries a call.
    function callDigest(Transfer calldata transfer, address target, bytes calldata payload) public view returns (bytes32) {
        bytes32 messageId = messageIdOf(transfer.sourceChainId, transfer.sourceGateway, transfer.nonce);
        bytes32 digest = releaseDigest(transfer.mode, transfer.token, transfer.recipient, transfer.amount, messageId);
        return keccak256(abi.encode(CALL_TYPEHASH, digest, target, keccak256(payload)));
    }

    function releaseWithCall(
        Transfer calldata transfer,
        address target,
        bytes calldata payload,
        bytes[] calldata signatures
    ) external whenNotPaused {
        bytes32 messageId = messageIdOf(transfer.sourceChainId, transfer.sourceGateway, transfer.nonce);
        if (released[messageId]) revert AlreadyReleased(messageId);
        address[] memory signers = _verifyQuorum(callDigest(transfer, target, payload), signatures);
        _settle(
            transfer.mode,
            transfer.token,
            transfer.recipient,
            transfer.amount,
            transfer.sourceChainId,
            transfer.nonce,
            messageId,
            signers
        );
        _execute(target, payload);
    }

    function _execute(address target, bytes calldata payload) private {
        (bool ok, bytes memory reason) = target.call(payload);
        if (!ok) revert CallFailed(reason);
    }

    function _isGovernance(address caller) internal view override returns (bool) {
        return caller == admin || caller == address(this);
    }
}
