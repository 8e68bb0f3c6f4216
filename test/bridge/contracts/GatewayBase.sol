// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

/// @dev The part of the production BridgeToken a gateway calls.
interface IBridgeToken {
    function mint(address to, uint256 amount) external;
    function burn(uint256 amount) external;
    function transfer(address to, uint256 amount) external returns (bool);
    function transferFrom(address from, address to, uint256 amount) external returns (bool);
}

/// @title GatewayBase — TEST ONLY, never deployed outside the bridge-guard tests.
/// @notice The production BridgeGateway (contracts/evm/src/BridgeGateway.sol) rebuilt with
/// hooks, so each deliberately vulnerable variant in this folder changes one thing and keeps
/// everything else: the same events (same signatures and indexing, so the production
/// listener decodes them), the same `lock` and `release` signatures, and the same
/// `messageIdOf` and `releaseDigest`. test/bridge/contracts.test.ts checks the events and
/// the digest against the production artifact.
///
/// Differences from production, all needed by a variant: the threshold is read through
/// `threshold()` (a variant may keep it elsewhere), the guardian check, signature decoding
/// and the governance check are virtual, and the state is set by `_initialize` so a variant
/// can sit behind a proxy.
abstract contract GatewayBase {
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
    uint256 internal _threshold;
    uint256 public guardianSetIndex;
    uint256 public nextNonce;
    address[] internal _guardians;
    mapping(address => uint256) internal _guardianSetOf; // set index for current guardians
    mapping(bytes32 messageId => bool) public released;
    uint8 internal _initializedVersion;

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
    error AlreadyInitialized();

    modifier onlyAdmin() {
        if (msg.sender != admin) revert NotAdmin(msg.sender);
        _;
    }

    modifier onlyGovernance() {
        if (!_isGovernance(msg.sender)) revert NotAdmin(msg.sender);
        _;
    }

    modifier whenNotPaused() {
        if (paused) revert Paused();
        _;
    }

    function _initialize(address initialAdmin, address[] memory guardians_, uint256 initialThreshold) internal {
        if (_initializedVersion != 0) revert AlreadyInitialized();
        _initializedVersion = 1;
        admin = initialAdmin;
        emit AdminChanged(address(0), initialAdmin);
        _setGuardians(guardians_, initialThreshold);
    }

    function threshold() public view virtual returns (uint256) {
        return _threshold;
    }

    function guardians() external view returns (address[] memory) {
        return _guardians;
    }

    function messageIdOf(uint256 sourceChainId, address sourceGateway, uint256 nonce) public pure returns (bytes32) {
        return keccak256(abi.encode(sourceChainId, sourceGateway, nonce));
    }

    function releaseDigest(ReleaseMode mode, address token, address recipient, uint256 amount, bytes32 messageId)
        public
        view
        returns (bytes32)
    {
        return keccak256(abi.encode(RELEASE_TYPEHASH, block.chainid, address(this), messageId, mode, token, recipient, amount));
    }

    function lock(LockMode mode, address token, uint256 amount, uint256 destinationChainId, address recipient)
        public
        whenNotPaused
        returns (bytes32 messageId)
    {
        if (amount == 0) revert ZeroAmount();
        if (!IBridgeToken(token).transferFrom(msg.sender, address(this), amount)) revert TransferFailed();
        if (mode == LockMode.BURN) IBridgeToken(token).burn(amount);
        uint256 nonce = nextNonce++;
        messageId = messageIdOf(block.chainid, address(this), nonce);
        emit BridgeLocked(messageId, mode, msg.sender, recipient, token, amount, destinationChainId, nonce);
    }

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
        _settle(mode, token, recipient, amount, sourceChainId, nonce, messageId, signers);
    }

    /// Marks the message released, pays, and emits BridgeReleased (signatures already checked).
    function _settle(
        ReleaseMode mode,
        address token,
        address recipient,
        uint256 amount,
        uint256 sourceChainId,
        uint256 nonce,
        bytes32 messageId,
        address[] memory signers
    ) internal {
        released[messageId] = true;
        _pay(mode, token, recipient, amount);
        emit BridgeReleased(messageId, mode, recipient, token, amount, sourceChainId, nonce, signers, threshold());
    }

    function setGuardians(address[] calldata guardians_, uint256 newThreshold) external onlyGovernance {
        _setGuardians(guardians_, newThreshold);
    }

    function setThreshold(uint256 newThreshold) external onlyAdmin {
        if (newThreshold == 0 || newThreshold > _guardians.length) revert BadThreshold(newThreshold, _guardians.length);
        emit ThresholdChanged(threshold(), newThreshold);
        _storeThreshold(newThreshold);
    }

    function setPaused(bool value) external onlyAdmin {
        paused = value;
        emit PauseChanged(value, msg.sender);
    }

    function transferAdmin(address newAdmin) external onlyAdmin {
        emit AdminChanged(admin, newAdmin);
        admin = newAdmin;
    }

    /// Who may replace the guardian set: the admin, as in production.
    function _isGovernance(address caller) internal view virtual returns (bool) {
        return caller == admin;
    }

    function _storeThreshold(uint256 value) internal virtual {
        _threshold = value;
    }

    function _pay(ReleaseMode mode, address token, address recipient, uint256 amount) internal {
        if (mode == ReleaseMode.MINT) IBridgeToken(token).mint(recipient, amount);
        else if (!IBridgeToken(token).transfer(recipient, amount)) revert TransferFailed();
    }

    function _setGuardians(address[] memory guardians_, uint256 newThreshold) internal {
        if (newThreshold == 0 || newThreshold > guardians_.length) revert BadThreshold(newThreshold, guardians_.length);
        uint256 setIndex = ++guardianSetIndex;
        address previous = address(0);
        for (uint256 i = 0; i < guardians_.length; i++) {
            if (guardians_[i] <= previous) revert DuplicateOrUnsortedGuardian(guardians_[i]);
            previous = guardians_[i];
            _guardianSetOf[guardians_[i]] = setIndex;
        }
        _guardians = guardians_;
        uint256 previousThreshold = threshold();
        if (previousThreshold != newThreshold) emit ThresholdChanged(previousThreshold, newThreshold);
        _storeThreshold(newThreshold);
        emit GuardianSetChanged(guardians_, newThreshold, setIndex);
    }

    function _verifyQuorum(bytes32 digest, bytes[] calldata signatures) internal view returns (address[] memory signers) {
        bytes32 signed = keccak256(abi.encodePacked("\x19Ethereum Signed Message:\n32", digest));
        signers = new address[](signatures.length);
        address previous = address(0);
        for (uint256 i = 0; i < signatures.length; i++) {
            address signer = _signerOf(signed, signatures[i], i);
            if (_guardianSetOf[signer] != guardianSetIndex) revert SignerNotGuardian(signer);
            if (signer <= previous) revert SignersNotAscending(signer);
            previous = signer;
            signers[i] = signer;
        }
        if (signatures.length < threshold()) revert QuorumNotReached(signatures.length, threshold());
    }

    /// The guardian a signature entry stands for: an ECDSA recovery, as in production.
    function _signerOf(bytes32 signed, bytes calldata signature, uint256 index) internal view virtual returns (address) {
        return _recover(signed, signature, index);
    }

    function _recover(bytes32 signed, bytes calldata signature, uint256 index) internal pure returns (address) {
        if (signature.length != 65) revert MalformedSignature(index);
        bytes32 r = bytes32(signature[0:32]);
        bytes32 s = bytes32(signature[32:64]);
        uint8 v = uint8(signature[64]);
        if (uint256(s) > 0x7FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF5D576E7357A4501DDFE92F46681B20A0) revert MalformedSignature(index);
        address signer = ecrecover(signed, v, r, s);
        if (signer == address(0)) revert MalformedSignature(index);
        return signer;
    }
}
