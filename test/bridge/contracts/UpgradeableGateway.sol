// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {GatewayBase} from "./GatewayBase.sol";

/// @title UpgradeableGateway, UpgradeableGatewayV2, GatewayProxy — TEST ONLY, deliberately vulnerable.
/// @notice Models Ronin, August 2024: the Ronin bridge's Ethereum gateway was upgraded to a
/// version that kept its vote threshold in a new variable to be set by an `initializeV4`
/// that was never called, so the minimum vote weight was 0 and withdrawals needed no valid
/// signatures; MEV bots withdrew ~$12M until the per-transaction caps stopped them.
/// @dev `UpgradeableGateway` (V1) is the production gateway behind `GatewayProxy`, a minimal
/// ERC-1967 proxy (implementation slot, `Upgraded` event; it deliberately does not emit
/// ERC-1967's `AdminChanged`, whose unindexed arguments would clash with the gateway's
/// `AdminChanged(address indexed,address indexed)` topic). `UpgradeableGatewayV2` reads
/// its quorum from `_minimumVoteWeight`, a slot V1 never wrote; `initializeV2` copies the old
/// threshold there. The bug: `upgradeTo(V2)` without `initializeV2` leaves `threshold()` at
/// 0, so `release` with zero signatures passes and BridgeReleased reports threshold 0. No
/// ThresholdChanged is emitted: the upgrade is the only trace.
contract UpgradeableGateway is GatewayBase {
    function initialize(address initialAdmin, address[] calldata guardians_, uint256 initialThreshold) external {
        _initialize(initialAdmin, guardians_, initialThreshold);
    }
}

contract UpgradeableGatewayV2 is GatewayBase {
    // Appended after every V1 variable: a fresh slot, zero until initializeV2 runs.
    uint256 private _minimumVoteWeight;

    function initializeV2() external onlyAdmin {
        if (_initializedVersion >= 2) revert AlreadyInitialized();
        _initializedVersion = 2;
        _minimumVoteWeight = _threshold;
    }

    function threshold() public view override returns (uint256) {
        return _minimumVoteWeight;
    }

    function _storeThreshold(uint256 value) internal override {
        _minimumVoteWeight = value;
    }
}

contract GatewayProxy {
    /// keccak256("eip1967.proxy.implementation") - 1
    bytes32 private constant IMPLEMENTATION_SLOT = 0x360894a13ba1a3210667c828492db98dca3e2076cc3735a920a3ca505d382bbc;
    /// keccak256("eip1967.proxy.admin") - 1
    bytes32 private constant ADMIN_SLOT = 0xb53127684a568b3173ae13b9f8a6016e243e63b6e8ee1178d6a717850b5d6103;

    event Upgraded(address indexed implementation);

    error NotProxyAdmin(address caller);
    error InitializationFailed(bytes reason);

    constructor(address implementation_, address proxyAdmin, bytes memory initData) {
        assembly {
            sstore(ADMIN_SLOT, proxyAdmin)
        }
        _upgrade(implementation_, initData);
    }

    function upgradeTo(address implementation_) external {
        _onlyProxyAdmin();
        _upgrade(implementation_, "");
    }

    function upgradeToAndCall(address implementation_, bytes calldata data) external {
        _onlyProxyAdmin();
        _upgrade(implementation_, data);
    }

    function proxyImplementation() external view returns (address implementation_) {
        assembly {
            implementation_ := sload(IMPLEMENTATION_SLOT)
        }
    }

    function _onlyProxyAdmin() private view {
        address proxyAdmin;
        assembly {
            proxyAdmin := sload(ADMIN_SLOT)
        }
        if (msg.sender != proxyAdmin) revert NotProxyAdmin(msg.sender);
    }

    function _upgrade(address implementation_, bytes memory data) private {
        assembly {
            sstore(IMPLEMENTATION_SLOT, implementation_)
        }
        emit Upgraded(implementation_);
        if (data.length > 0) {
            (bool ok, bytes memory reason) = implementation_.delegatecall(data);
            if (!ok) revert InitializationFailed(reason);
        }
    }

    fallback() external payable {
        assembly {
            let implementation_ := sload(IMPLEMENTATION_SLOT)
            calldatacopy(0, 0, calldatasize())
            let ok := delegatecall(gas(), implementation_, 0, calldatasize(), 0, 0)
            returndatacopy(0, 0, returndatasize())
            switch ok
            case 0 { revert(0, returndatasize()) }
            default { return(0, returndatasize()) }
        }
    }
}
