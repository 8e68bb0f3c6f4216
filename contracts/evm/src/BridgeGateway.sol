// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {BridgeToken} from "./BridgeToken.sol";

/// @notice Lock/burn on the source chain, mint/unlock on the destination chain against a
/// quorum of guardian ECDSA signatures. One contract per chain plays both sides.
///
/// A transfer is named by its message id, keccak256(source chain id, source gateway, nonce),
/// the same on both chains so the pipeline can pair a lock with its release. Guardians sign
/// a digest that is domain-separated by the destination chain id and gateway address (and
/// the message id, which carries the source nonce), so a signature is valid for exactly one
/// release on exactly one gateway; a released message id is never released again.
///
/// Deliberately simple so real bridge attacks can be re-enacted against it: the admin can
/// lower the threshold (short quorum), swap the guardian set, or pause.
contract BridgeGateway {
    enum LockMode {
        LOCK,
        BURN
    }
    enum ReleaseMode {
        MINT,
        UNLOCK
    }

    bytes32 public constant RELEASE_TYPEHASH = keccak256("veridis.bridge.Release.v1");

    address public admin;
    bool public paused;
    uint256 public threshold;
    uint256 public guardianSetIndex;
    uint256 public nextNonce;
    address[] private _guardians;
    mapping(address => uint256) private _guardianSetOf; // set index + 1 for current guardians
    mapping(bytes32 messageId => bool) public released;

    event BridgeLocked(
        bytes32 indexed messageId,
        LockMode mode,
        address indexed sender,
        address recipient,
        address indexed token,
        uint256 amount,
        uint256 destinationChainId,
        uint256 nonce
    );
    event BridgeReleased(
        bytes32 indexed messageId,
        ReleaseMode mode,
        address indexed recipient,
        address indexed token,
        uint256 amount,
        uint256 sourceChainId,
        uint256 nonce,
        address[] signers,
        uint256 threshold
    );
    event GuardianSetChanged(address[] guardians, uint256 threshold, uint256 indexed setIndex);
    event ThresholdChanged(uint256 previousThreshold, uint256 threshold);
    event PauseChanged(bool paused, address indexed by);
    event AdminChanged(address indexed previousAdmin, address indexed admin);

    error NotAdmin(address caller);
    error Paused();
    error ZeroAmount();
    error BadThreshold(uint256 threshold, uint256 guardians);
    error DuplicateOrUnsortedGuardian(address guardian);
    error AlreadyReleased(bytes32 messageId);
    error QuorumNotReached(uint256 valid, uint256 threshold);
    error SignerNotGuardian(address signer);
    error SignersNotAscending(address signer);
    error MalformedSignature(uint256 index);
    error TransferFailed();

    constructor(address initialAdmin, address[] memory guardians, uint256 initialThreshold) {
        admin = initialAdmin;
        emit AdminChanged(address(0), initialAdmin);
        _setGuardians(guardians, initialThreshold);
    }

    modifier onlyAdmin() {
        if (msg.sender != admin) revert NotAdmin(msg.sender);
        _;
    }

    modifier whenNotPaused() {
        if (paused) revert Paused();
        _;
    }

    function guardians() external view returns (address[] memory) {
        return _guardians;
    }

    function messageIdOf(uint256 sourceChainId, address sourceGateway, uint256 nonce) public pure returns (bytes32) {
        return keccak256(abi.encode(sourceChainId, sourceGateway, nonce));
    }

    /// What guardians sign (with the EIP-191 personal-message prefix) to release on this gateway.
    function releaseDigest(ReleaseMode mode, address token, address recipient, uint256 amount, bytes32 messageId)
        public
        view
        returns (bytes32)
    {
        return keccak256(abi.encode(RELEASE_TYPEHASH, block.chainid, address(this), messageId, mode, token, recipient, amount));
    }

    /// LOCK keeps the tokens here; BURN destroys them (wrapped tokens going home).
    function lock(LockMode mode, address token, uint256 amount, uint256 destinationChainId, address recipient)
        external
        whenNotPaused
        returns (bytes32 messageId)
    {
        if (amount == 0) revert ZeroAmount();
        if (!BridgeToken(token).transferFrom(msg.sender, address(this), amount)) revert TransferFailed();
        if (mode == LockMode.BURN) BridgeToken(token).burn(amount);
        uint256 nonce = nextNonce++;
        messageId = messageIdOf(block.chainid, address(this), nonce);
        emit BridgeLocked(messageId, mode, msg.sender, recipient, token, amount, destinationChainId, nonce);
    }

    /// Signatures must come from distinct current guardians in ascending signer order.
    function release(
        ReleaseMode mode,
        address token,
        address recipient,
        uint256 amount,
        uint256 sourceChainId,
        address sourceGateway,
        uint256 nonce,
        bytes[] calldata signatures
    ) external whenNotPaused {
        bytes32 messageId = messageIdOf(sourceChainId, sourceGateway, nonce);
        if (released[messageId]) revert AlreadyReleased(messageId);
        address[] memory signers = _verifyQuorum(releaseDigest(mode, token, recipient, amount, messageId), signatures);
        released[messageId] = true;
        if (mode == ReleaseMode.MINT) BridgeToken(token).mint(recipient, amount);
        else if (!BridgeToken(token).transfer(recipient, amount)) revert TransferFailed();
        emit BridgeReleased(messageId, mode, recipient, token, amount, sourceChainId, nonce, signers, threshold);
    }

    function setGuardians(address[] calldata guardians_, uint256 newThreshold) external onlyAdmin {
        _setGuardians(guardians_, newThreshold);
    }

    function setThreshold(uint256 newThreshold) external onlyAdmin {
        if (newThreshold == 0 || newThreshold > _guardians.length) revert BadThreshold(newThreshold, _guardians.length);
        emit ThresholdChanged(threshold, newThreshold);
        threshold = newThreshold;
    }

    function setPaused(bool value) external onlyAdmin {
        paused = value;
        emit PauseChanged(value, msg.sender);
    }

    function transferAdmin(address newAdmin) external onlyAdmin {
        emit AdminChanged(admin, newAdmin);
        admin = newAdmin;
    }

    function _setGuardians(address[] memory guardians_, uint256 newThreshold) private {
        if (newThreshold == 0 || newThreshold > guardians_.length) revert BadThreshold(newThreshold, guardians_.length);
        uint256 setIndex = ++guardianSetIndex;
        address previous = address(0);
        for (uint256 i = 0; i < guardians_.length; i++) {
            if (guardians_[i] <= previous) revert DuplicateOrUnsortedGuardian(guardians_[i]);
            previous = guardians_[i];
            _guardianSetOf[guardians_[i]] = setIndex;
        }
        _guardians = guardians_;
        if (threshold != newThreshold) emit ThresholdChanged(threshold, newThreshold);
        threshold = newThreshold;
        emit GuardianSetChanged(guardians_, newThreshold, setIndex);
    }

    function _verifyQuorum(bytes32 digest, bytes[] calldata signatures) private view returns (address[] memory signers) {
        bytes32 signed = keccak256(abi.encodePacked("\x19Ethereum Signed Message:\n32", digest));
        signers = new address[](signatures.length);
        address previous = address(0);
        for (uint256 i = 0; i < signatures.length; i++) {
            address signer = _recover(signed, signatures[i], i);
            if (_guardianSetOf[signer] != guardianSetIndex) revert SignerNotGuardian(signer);
            if (signer <= previous) revert SignersNotAscending(signer);
            previous = signer;
            signers[i] = signer;
        }
        if (signatures.length < threshold) revert QuorumNotReached(signatures.length, threshold);
    }

    function _recover(bytes32 signed, bytes calldata signature, uint256 index) private pure returns (address) {
        if (signature.length != 65) revert MalformedSignature(index);
        bytes32 r = bytes32(signature[0:32]);
        bytes32 s = bytes32(signature[32:64]);
        uint8 v = uint8(signature[64]);
        // Reject high-s (malleable) signatures, as OpenZeppelin's ECDSA does.
        if (uint256(s) > 0x7FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF5D576E7357A4501DDFE92F46681B20A0) revert MalformedSignature(index);
        address signer = ecrecover(signed, v, r, s);
        if (signer == address(0)) revert MalformedSignature(index);
        return signer;
    }
}
