// Remembers which nullifiers were used in which scope on this chain and refuses a second use.
// Two writers: the PROTOCOL role (the application contract or account that verified a
// membership proof) and the RELAYER role (the propagation relayer copying a use first seen on
// another chain, so a nullifier spent on chain A is spent here too). The Cairo twin of
// contracts/evm/src/NullifierRegistry.sol, without the proof-carrying path (no Groth16 BN254
// verifier compiles offline here).
//
// Scopes, nullifiers and roots are BN254 field elements: up to 254 bits, more than a felt252
// (< 2^251 + 17·2^192 + 1) always holds, so they are stored and emitted as u256 (two felts,
// low then high).
use starknet::ContractAddress;

#[starknet::interface]
pub trait INullifierRegistry<TContractState> {
    fn is_used(self: @TContractState, scope: u256, nullifier: u256) -> bool;
    fn record_use(ref self: TContractState, scope: u256, nullifier: u256, merkle_tree_root: u256);
    fn record_uses(
        ref self: TContractState, scope: u256, nullifiers: Array<u256>, merkle_tree_root: u256,
    );
    fn record_relayed(
        ref self: TContractState,
        scope: u256,
        nullifier: u256,
        merkle_tree_root: u256,
        origin_chain: ByteArray,
    );
    fn has_role(self: @TContractState, role: felt252, account: ContractAddress) -> bool;
    fn grant_role(ref self: TContractState, role: felt252, account: ContractAddress);
    fn revoke_role(ref self: TContractState, role: felt252, account: ContractAddress);
    fn admin(self: @TContractState) -> ContractAddress;
    fn transfer_admin(ref self: TContractState, new_admin: ContractAddress);
}

#[starknet::contract]
pub mod NullifierRegistry {
    use starknet::storage::{
        Map, StorageMapReadAccess, StorageMapWriteAccess, StoragePointerReadAccess,
        StoragePointerWriteAccess,
    };
    use starknet::{ContractAddress, contract_address_const, get_caller_address};

    pub const PROTOCOL: felt252 = 'veridis.nullifier.PROTOCOL';
    pub const RELAYER: felt252 = 'veridis.nullifier.RELAYER';

    #[storage]
    struct Storage {
        admin: ContractAddress,
        members: Map<(felt252, ContractAddress), bool>,
        used: Map<(u256, u256), bool>,
    }

    #[event]
    #[derive(Drop, starknet::Event)]
    pub enum Event {
        NullifierUsed: NullifierUsed,
        NullifierRelayed: NullifierRelayed,
        AdminChanged: AdminChanged,
        RoleGranted: RoleGranted,
        RoleRevoked: RoleRevoked,
    }

    /// A verified proof used the nullifier on this chain.
    #[derive(Drop, starknet::Event)]
    pub struct NullifierUsed {
        #[key]
        pub scope: u256,
        #[key]
        pub nullifier: u256,
        pub merkle_tree_root: u256,
        #[key]
        pub by: ContractAddress,
    }

    /// The relayer recorded a use first seen on `origin_chain` (CAIP-2, e.g. "eip155:31337").
    #[derive(Drop, starknet::Event)]
    pub struct NullifierRelayed {
        #[key]
        pub scope: u256,
        #[key]
        pub nullifier: u256,
        pub merkle_tree_root: u256,
        pub origin_chain: ByteArray,
        #[key]
        pub by: ContractAddress,
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
    impl NullifierRegistryImpl of super::INullifierRegistry<ContractState> {
        fn is_used(self: @ContractState, scope: u256, nullifier: u256) -> bool {
            self.used.read((scope, nullifier))
        }

        fn record_use(
            ref self: ContractState, scope: u256, nullifier: u256, merkle_tree_root: u256,
        ) {
            let caller = self.only_role(PROTOCOL);
            self.mark_used(scope, nullifier);
            self.emit(NullifierUsed { scope, nullifier, merkle_tree_root, by: caller });
        }

        /// Several verified proofs of one scope in one transaction (a batch verifier's output).
        fn record_uses(
            ref self: ContractState, scope: u256, nullifiers: Array<u256>, merkle_tree_root: u256,
        ) {
            let caller = self.only_role(PROTOCOL);
            let mut i = 0;
            while i < nullifiers.len() {
                let nullifier = *nullifiers.at(i);
                self.mark_used(scope, nullifier);
                self.emit(NullifierUsed { scope, nullifier, merkle_tree_root, by: caller });
                i += 1;
            };
        }

        fn record_relayed(
            ref self: ContractState,
            scope: u256,
            nullifier: u256,
            merkle_tree_root: u256,
            origin_chain: ByteArray,
        ) {
            let caller = self.only_role(RELAYER);
            assert(origin_chain.len() > 0, 'empty origin chain');
            self.mark_used(scope, nullifier);
            self
                .emit(
                    NullifierRelayed { scope, nullifier, merkle_tree_root, origin_chain, by: caller },
                );
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

        fn mark_used(ref self: ContractState, scope: u256, nullifier: u256) {
            assert(!self.used.read((scope, nullifier)), 'nullifier already used');
            self.used.write((scope, nullifier), true);
        }
    }
}
