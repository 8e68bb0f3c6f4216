// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

/// @notice Minimal role bookkeeping shared by the Veridis registries: one admin who grants and
/// revokes named roles. Kept in-house (no OpenZeppelin) so the contracts compile offline from
/// this folder alone.
abstract contract Roles {
    address public admin;
    mapping(bytes32 role => mapping(address account => bool)) private _members;

    event AdminChanged(address indexed previousAdmin, address indexed admin);
    event RoleGranted(bytes32 indexed role, address indexed account, address indexed by);
    event RoleRevoked(bytes32 indexed role, address indexed account, address indexed by);

    error NotAdmin(address caller);
    error MissingRole(bytes32 role, address caller);
    error ZeroAddress();

    constructor(address initialAdmin) {
        if (initialAdmin == address(0)) revert ZeroAddress();
        admin = initialAdmin;
        emit AdminChanged(address(0), initialAdmin);
    }

    modifier onlyAdmin() {
        if (msg.sender != admin) revert NotAdmin(msg.sender);
        _;
    }

    modifier onlyRole(bytes32 role) {
        if (!_members[role][msg.sender]) revert MissingRole(role, msg.sender);
        _;
    }

    function hasRole(bytes32 role, address account) public view returns (bool) {
        return _members[role][account];
    }

    function grantRole(bytes32 role, address account) external onlyAdmin {
        if (account == address(0)) revert ZeroAddress();
        if (_members[role][account]) return;
        _members[role][account] = true;
        emit RoleGranted(role, account, msg.sender);
    }

    function revokeRole(bytes32 role, address account) external onlyAdmin {
        if (!_members[role][account]) return;
        _members[role][account] = false;
        emit RoleRevoked(role, account, msg.sender);
    }

    function transferAdmin(address newAdmin) external onlyAdmin {
        if (newAdmin == address(0)) revert ZeroAddress();
        emit AdminChanged(admin, newAdmin);
        admin = newAdmin;
    }
}
