// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {GatewayBase} from "./GatewayBase.sol";

/// @title SignatureBypassGateway — TEST ONLY, deliberately vulnerable.
/// @notice Models Wormhole, February 2022: 120,000 wETH minted on Solana with no lock on
/// Ethereum. Wormhole's `verify_signatures` trusted a "signature set" account built from the
/// instructions sysvar without checking that the sysvar account was the real one, so the
/// attacker supplied a signature set saying the guardians had signed, and `post_vaa` then
/// minted against it.
/// @dev The bug: besides 65-byte ECDSA signatures, a 20-byte entry in `signatures` is taken as
/// "a signer verified earlier" (a pre-verified signature set) and used as that guardian's
/// address without any cryptographic check. Guardian addresses are public, so anyone mints
/// any amount by listing threshold-many of them in ascending order; the BridgeReleased event
/// then names those guardians as signers. Everything else is the production gateway.
contract SignatureBypassGateway is GatewayBase {
    constructor(address initialAdmin, address[] memory guardians_, uint256 initialThreshold) {
        _initialize(initialAdmin, guardians_, initialThreshold);
    }

    function _signerOf(bytes32 signed, bytes calldata signature, uint256 index) internal view override returns (address) {
        if (signature.length == 20) return address(bytes20(signature));
        return _recover(signed, signature, index);
    }
}
