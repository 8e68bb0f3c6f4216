// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {Roles} from "./Roles.sol";

/// @notice Issuers publish attestations as leaves of their own Merkle tree: each issue carries
/// the tree root after the insertion, a root update publishes a recomputed root (batch
/// inserts, removals), and a revocation marks one attestation void. Field elements (ids,
/// roots) are uint256 so they travel as decimal strings, the way snarkjs writes them.
contract AttestationRegistry is Roles {
    bytes32 public constant ISSUER = keccak256("veridis.attestation.ISSUER");

    struct Attestation {
        address issuer;
        bool revoked;
    }

    mapping(uint256 attestationId => Attestation) public attestations;
    mapping(address issuer => uint256) public rootOf;

    event AttestationIssued(uint256 indexed attestationId, address indexed issuer, uint256 root, bytes32 schemaId);
    event AttestationRevoked(uint256 indexed attestationId, address indexed issuer, string reason);
    event AttestationRootUpdated(address indexed issuer, uint256 previousRoot, uint256 root);

    error AlreadyIssued(uint256 attestationId);
    error UnknownAttestation(uint256 attestationId);
    error NotIssuerOf(uint256 attestationId, address caller);
    error AlreadyRevoked(uint256 attestationId);

    constructor(address initialAdmin) Roles(initialAdmin) {}

    function issue(uint256 attestationId, uint256 root, bytes32 schemaId) external onlyRole(ISSUER) {
        if (attestations[attestationId].issuer != address(0)) revert AlreadyIssued(attestationId);
        attestations[attestationId] = Attestation({issuer: msg.sender, revoked: false});
        rootOf[msg.sender] = root;
        emit AttestationIssued(attestationId, msg.sender, root, schemaId);
    }

    function revoke(uint256 attestationId, string calldata reason) external onlyRole(ISSUER) {
        Attestation storage attestation = attestations[attestationId];
        if (attestation.issuer == address(0)) revert UnknownAttestation(attestationId);
        if (attestation.issuer != msg.sender) revert NotIssuerOf(attestationId, msg.sender);
        if (attestation.revoked) revert AlreadyRevoked(attestationId);
        attestation.revoked = true;
        emit AttestationRevoked(attestationId, msg.sender, reason);
    }

    function updateRoot(uint256 root) external onlyRole(ISSUER) {
        emit AttestationRootUpdated(msg.sender, rootOf[msg.sender], root);
        rootOf[msg.sender] = root;
    }

    function isValid(uint256 attestationId) external view returns (bool) {
        Attestation storage attestation = attestations[attestationId];
        return attestation.issuer != address(0) && !attestation.revoked && hasRole(ISSUER, attestation.issuer);
    }
}
