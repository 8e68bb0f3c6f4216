// Issuers publish attestations as leaves of their own Merkle tree: each issue carries the tree
// root after the insertion, a root update publishes a recomputed root (batch inserts,
// removals), and a revocation marks one attestation void. The Cairo twin of
// contracts/evm/src/AttestationRegistry.sol.
//
// Attestation ids and roots are BN254 field elements, which do not always fit a felt252: they
// are stored and emitted as u256 (two felts, low then high). A schema id is a felt252 (a
// short string or a hash truncated to 251 bits), 0 for none.
use starknet::ContractAddress;

#[starknet::interface]
pub trait IAttestationRegistry<TContractState> {
    fn issue(ref self: TContractState, attestation_id: u256, root: u256, schema_id: felt252);
    fn revoke(ref self: TContractState, attestation_id: u256, reason: ByteArray);
    fn update_root(ref self: TContractState, root: u256);
    fn is_valid(self: @TContractState, attestation_id: u256) -> bool;
    fn root_of(self: @TContractState, issuer: ContractAddress) -> u256;
    fn issuer_of(self: @TContractState, attestation_id: u256) -> ContractAddress;
    fn has_role(self: @TContractState, role: felt252, account: ContractAddress) -> bool;
    fn grant_role(ref self: TContractState, role: felt252, account: ContractAddress);
    fn revoke_role(ref self: TContractState, role: felt252, account: ContractAddress);
    fn admin(self: @TContractState) -> ContractAddress;
    fn transfer_admin(ref self: TContractState, new_admin: ContractAddress);
}

#[starknet::contract]
pub mod AttestationRegistry {
    use starknet::storage::{
        Map, StorageMapReadAccess, StorageMapWriteAccess, StoragePointerReadAccess,
        StoragePointerWriteAccess,
    };
    use starknet::{ContractAddress, contract_address_const, get_caller_address};

    pub const ISSUER: felt252 = 'veridis.attestation.ISSUER';

    #[storage]
    struct Storage {
        admin: ContractAddress,
        members: Map<(felt252, ContractAddress), bool>,
        issuers: Map<u256, ContractAddress>,
        revoked: Map<u256, bool>,
        roots: Map<ContractAddress, u256>,
    }

    #[event]
    #[derive(Drop, starknet::Event)]
    pub enum Event {
        AttestationIssued: AttestationIssued,
        AttestationRevoked: AttestationRevoked,
        AttestationRootUpdated: AttestationRootUpdated,
        AdminChanged: AdminChanged,
        RoleGranted: RoleGranted,
        RoleRevoked: RoleRevoked,
    }

    #[derive(Drop, starknet::Event)]
    pub struct AttestationIssued {
        #[key]
        pub attestation_id: u256,
        #[key]
        pub issuer: ContractAddress,
        pub root: u256,
        pub schema_id: felt252,
    }

    #[derive(Drop, starknet::Event)]
    pub struct AttestationRevoked {
        #[key]
        pub attestation_id: u256,
        #[key]
        pub issuer: ContractAddress,
        pub reason: ByteArray,
    }

    #[derive(Drop, starknet::Event)]
    pub struct AttestationRootUpdated {
        #[key]
        pub issuer: ContractAddress,
        pub previous_root: u256,
        pub root: u256,
    }

    #[derive(Drop, starknet::Event)]
    pub struct AdminChanged {
        #[key]
        pub previous_admin: ContractAddress,
        #[key]
        pub admin: ContractAddress,
    }

    #[derive(Drop, starknet::Event)]
    pub struct RoleGranted {
        #[key]
        pub role: felt252,
        #[key]
        pub account: ContractAddress,
        #[key]
        pub by: ContractAddress,
    }

    #[derive(Drop, starknet::Event)]
    pub struct RoleRevoked {
        #[key]
        pub role: felt252,
        #[key]
        pub account: ContractAddress,
        #[key]
        pub by: ContractAddress,
    }

    // ContractAddress has two zero-test traits in this corelib (Zero and the older Zeroable):
    // a plain comparison of the felt avoids the ambiguity.
    fn is_zero_address(address: ContractAddress) -> bool {
        let raw: felt252 = address.into();
        raw == 0
    }

    #[constructor]
    fn constructor(ref self: ContractState, initial_admin: ContractAddress) {
        assert(!is_zero_address(initial_admin), 'zero address');
        self.admin.write(initial_admin);
        self.emit(AdminChanged { previous_admin: contract_address_const::<0>(), admin: initial_admin });
    }

    #[abi(embed_v0)]
    impl AttestationRegistryImpl of super::IAttestationRegistry<ContractState> {
        fn issue(ref self: ContractState, attestation_id: u256, root: u256, schema_id: felt252) {
            let issuer = self.only_role(ISSUER);
            assert(is_zero_address(self.issuers.read(attestation_id)), 'already issued');
            self.issuers.write(attestation_id, issuer);
            self.roots.write(issuer, root);
            self.emit(AttestationIssued { attestation_id, issuer, root, schema_id });
        }

        fn revoke(ref self: ContractState, attestation_id: u256, reason: ByteArray) {
            let caller = self.only_role(ISSUER);
            let issuer = self.issuers.read(attestation_id);
            assert(!is_zero_address(issuer), 'unknown attestation');
            assert(issuer == caller, 'not issuer of attestation');
            assert(!self.revoked.read(attestation_id), 'already revoked');
            self.revoked.write(attestation_id, true);
            self.emit(AttestationRevoked { attestation_id, issuer, reason });
        }

        fn update_root(ref self: ContractState, root: u256) {
            let issuer = self.only_role(ISSUER);
            let previous_root = self.roots.read(issuer);
            self.roots.write(issuer, root);
            self.emit(AttestationRootUpdated { issuer, previous_root, root });
        }

        fn is_valid(self: @ContractState, attestation_id: u256) -> bool {
            let issuer = self.issuers.read(attestation_id);
            !is_zero_address(issuer)
                && !self.revoked.read(attestation_id)
                && self.members.read((ISSUER, issuer))
        }

        fn root_of(self: @ContractState, issuer: ContractAddress) -> u256 {
            self.roots.read(issuer)
        }

        fn issuer_of(self: @ContractState, attestation_id: u256) -> ContractAddress {
            self.issuers.read(attestation_id)
        }

        fn has_role(self: @ContractState, role: felt252, account: ContractAddress) -> bool {
            self.members.read((role, account))
        }

        fn grant_role(ref self: ContractState, role: felt252, account: ContractAddress) {
            let caller = self.only_admin();
            assert(!is_zero_address(account), 'zero address');
            if self.members.read((role, account)) {
                return;
            }
            self.members.write((role, account), true);
            self.emit(RoleGranted { role, account, by: caller });
        }

        fn revoke_role(ref self: ContractState, role: felt252, account: ContractAddress) {
            let caller = self.only_admin();
            if !self.members.read((role, account)) {
                return;
            }
            self.members.write((role, account), false);
            self.emit(RoleRevoked { role, account, by: caller });
        }

        fn admin(self: @ContractState) -> ContractAddress {
            self.admin.read()
        }

        fn transfer_admin(ref self: ContractState, new_admin: ContractAddress) {
            let caller = self.only_admin();
            assert(!is_zero_address(new_admin), 'zero address');
            self.admin.write(new_admin);
            self.emit(AdminChanged { previous_admin: caller, admin: new_admin });
        }
    }

    #[generate_trait]
    impl InternalImpl of InternalTrait {
        fn only_admin(self: @ContractState) -> ContractAddress {
            let caller = get_caller_address();
            assert(caller == self.admin.read(), 'not admin');
            caller
        }

        fn only_role(self: @ContractState, role: felt252) -> ContractAddress {
            let caller = get_caller_address();
            assert(self.members.read((role, caller)), 'missing role');
            caller
        }
    }
}
