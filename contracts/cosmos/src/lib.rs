//! The Veridis registry on CosmWasm chains: nullifiers used once per scope, and attestations.
//! The CosmWasm twin of contracts/evm/src/NullifierRegistry.sol + AttestationRegistry.sol and
//! contracts/starknet/src/*.cairo, in one contract.
//!
//! Roles, set by the admin (the instantiator): PROTOCOL records uses of verified proofs,
//! RELAYER copies a use first seen on another chain, ISSUER issues attestations. A second use
//! of a (scope, nullifier) is refused on-chain whoever sends it.
//!
//! Scopes, nullifiers, attestation ids and roots are BN254 field elements, carried as decimal
//! strings (Uint256) and stored as 32 big-endian bytes. Events are custom wasm events
//! (`wasm-veridis_nullifier_used`, ...) whose attributes the listener reads
//! (producers/chains/cosmos/normalise/events.ts).
use cosmwasm_std::{
    entry_point, to_binary, Addr, Binary, Deps, DepsMut, Env, Event, MessageInfo, Response, StdError,
    StdResult, Uint256,
};
use serde::{Deserialize, Serialize};

const ADMIN: &[u8] = b"admin";
const ROLE: &[u8] = b"r";
const USED: &[u8] = b"n";
const ATTESTATION: &[u8] = b"a";
const ROOT_OF: &[u8] = b"o";

pub const PROTOCOL: &str = "protocol";
pub const RELAYER: &str = "relayer";
pub const ISSUER: &str = "issuer";

#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct InstantiateMsg {
    #[serde(default)]
    pub protocol: Vec<String>,
    #[serde(default)]
    pub relayers: Vec<String>,
    #[serde(default)]
    pub issuers: Vec<String>,
}

#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum ExecuteMsg {
    RecordUse {
        scope: Uint256,
        nullifier: Uint256,
        merkle_tree_root: Uint256,
    },
    RecordRelayed {
        scope: Uint256,
        nullifier: Uint256,
        merkle_tree_root: Uint256,
        origin_chain: String,
    },
    Issue {
        attestation_id: Uint256,
        root: Uint256,
        /// 0x + 64 hex digits, or absent.
        schema_id: Option<String>,
    },
    Revoke {
        attestation_id: Uint256,
        reason: String,
    },
    UpdateRoot {
        root: Uint256,
    },
    GrantRole {
        role: String,
        account: String,
    },
    RevokeRole {
        role: String,
        account: String,
    },
}

#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum QueryMsg {
    IsUsed { scope: Uint256, nullifier: Uint256 },
    HasRole { role: String, account: String },
    Admin {},
}

fn key(prefix: &[u8], parts: &[&[u8]]) -> Vec<u8> {
    let mut out = prefix.to_vec();
    for part in parts {
        out.push(0);
        out.extend_from_slice(part);
    }
    out
}

fn role_key(role: &str, account: &Addr) -> Vec<u8> {
    key(ROLE, &[role.as_bytes(), account.as_bytes()])
}

fn used_key(scope: &Uint256, nullifier: &Uint256) -> Vec<u8> {
    key(USED, &[&scope.to_be_bytes(), &nullifier.to_be_bytes()])
}

fn check_role_name(role: &str) -> StdResult<()> {
    match role {
        PROTOCOL | RELAYER | ISSUER => Ok(()),
        _ => Err(StdError::generic_err(format!("unknown role {}", role))),
    }
}

fn has_role(deps: Deps, role: &str, account: &Addr) -> bool {
    deps.storage.get(&role_key(role, account)).is_some()
}

fn require_role(deps: Deps, role: &str, account: &Addr) -> StdResult<()> {
    if has_role(deps, role, account) {
        Ok(())
    } else {
        Err(StdError::generic_err(format!("{} lacks the {} role", account, role)))
    }
}

fn require_admin(deps: Deps, account: &Addr) -> StdResult<()> {
    match deps.storage.get(ADMIN) {
        Some(admin) if admin == account.as_bytes() => Ok(()),
        _ => Err(StdError::generic_err("only the admin may do this")),
    }
}

#[entry_point]
pub fn instantiate(deps: DepsMut, _env: Env, info: MessageInfo, msg: InstantiateMsg) -> StdResult<Response> {
    deps.storage.set(ADMIN, info.sender.as_bytes());
    for (role, accounts) in [(PROTOCOL, &msg.protocol), (RELAYER, &msg.relayers), (ISSUER, &msg.issuers)] {
        for account in accounts {
            let addr = deps.api.addr_validate(account)?;
            deps.storage.set(&role_key(role, &addr), &[1]);
        }
    }
    Ok(Response::new().add_attribute("admin", info.sender))
}

fn record(
    deps: DepsMut,
    by: &Addr,
    scope: Uint256,
    nullifier: Uint256,
    merkle_tree_root: Uint256,
    origin_chain: Option<String>,
) -> StdResult<Response> {
    let slot = used_key(&scope, &nullifier);
    if deps.storage.get(&slot).is_some() {
        return Err(StdError::generic_err("nullifier already used"));
    }
    deps.storage.set(&slot, &[1]);
    let event = Event::new(if origin_chain.is_some() { "veridis_nullifier_relayed" } else { "veridis_nullifier_used" })
        .add_attribute("scope", scope.to_string())
        .add_attribute("nullifier", nullifier.to_string())
        .add_attribute("merkle_tree_root", merkle_tree_root.to_string())
        .add_attribute("by", by.as_str());
    let event = match origin_chain {
        Some(origin) => {
            if origin.is_empty() || origin.len() > 64 {
                return Err(StdError::generic_err("origin_chain must be a CAIP-2 id"));
            }
            event.add_attribute("origin_chain", origin)
        }
        None => event,
    };
    Ok(Response::new().add_event(event))
}

fn check_schema_id(schema_id: &Option<String>) -> StdResult<()> {
    if let Some(id) = schema_id {
        let hex = id.strip_prefix("0x").unwrap_or("");
        if hex.len() != 64 || !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(StdError::generic_err("schema_id must be 0x + 64 hex digits"));
        }
    }
    Ok(())
}

#[entry_point]
pub fn execute(deps: DepsMut, _env: Env, info: MessageInfo, msg: ExecuteMsg) -> StdResult<Response> {
    let sender = info.sender;
    match msg {
        ExecuteMsg::RecordUse { scope, nullifier, merkle_tree_root } => {
            require_role(deps.as_ref(), PROTOCOL, &sender)?;
            record(deps, &sender, scope, nullifier, merkle_tree_root, None)
        }
        ExecuteMsg::RecordRelayed { scope, nullifier, merkle_tree_root, origin_chain } => {
            require_role(deps.as_ref(), RELAYER, &sender)?;
            record(deps, &sender, scope, nullifier, merkle_tree_root, Some(origin_chain))
        }
        ExecuteMsg::Issue { attestation_id, root, schema_id } => {
            require_role(deps.as_ref(), ISSUER, &sender)?;
            check_schema_id(&schema_id)?;
            let slot = key(ATTESTATION, &[&attestation_id.to_be_bytes()]);
            if deps.storage.get(&slot).is_some() {
                return Err(StdError::generic_err("attestation already issued"));
            }
            // issuer bytes, then a revoked flag
            let mut value = sender.as_bytes().to_vec();
            value.push(0);
            deps.storage.set(&slot, &value);
            deps.storage.set(&key(ROOT_OF, &[sender.as_bytes()]), &root.to_be_bytes());
            let mut event = Event::new("veridis_attestation_issued")
                .add_attribute("attestation_id", attestation_id.to_string())
                .add_attribute("issuer", sender.as_str())
                .add_attribute("root", root.to_string());
            if let Some(id) = schema_id {
                event = event.add_attribute("schema_id", id.to_lowercase());
            }
            Ok(Response::new().add_event(event))
        }
        ExecuteMsg::Revoke { attestation_id, reason } => {
            require_role(deps.as_ref(), ISSUER, &sender)?;
            let slot = key(ATTESTATION, &[&attestation_id.to_be_bytes()]);
            let mut value = deps
                .storage
                .get(&slot)
                .ok_or_else(|| StdError::generic_err("unknown attestation"))?;
            let revoked = value.pop().unwrap_or(0);
            if value != sender.as_bytes() {
                return Err(StdError::generic_err("not the issuer of this attestation"));
            }
            if revoked == 1 {
                return Err(StdError::generic_err("attestation already revoked"));
            }
            value.push(1);
            deps.storage.set(&slot, &value);
            Ok(Response::new().add_event(
                Event::new("veridis_attestation_revoked")
                    .add_attribute("attestation_id", attestation_id.to_string())
                    .add_attribute("issuer", sender.as_str())
                    .add_attribute("reason", reason),
            ))
        }
        ExecuteMsg::UpdateRoot { root } => {
            require_role(deps.as_ref(), ISSUER, &sender)?;
            let slot = key(ROOT_OF, &[sender.as_bytes()]);
            let previous = match deps.storage.get(&slot) {
                Some(bytes) if bytes.len() == 32 => {
                    let mut array = [0u8; 32];
                    array.copy_from_slice(&bytes);
                    Uint256::from_be_bytes(array)
                }
                _ => Uint256::zero(),
            };
            deps.storage.set(&slot, &root.to_be_bytes());
            Ok(Response::new().add_event(
                Event::new("veridis_attestation_root_updated")
                    .add_attribute("issuer", sender.as_str())
                    .add_attribute("previous_root", previous.to_string())
                    .add_attribute("root", root.to_string()),
            ))
        }
        ExecuteMsg::GrantRole { role, account } => {
            require_admin(deps.as_ref(), &sender)?;
            check_role_name(&role)?;
            let addr = deps.api.addr_validate(&account)?;
            deps.storage.set(&role_key(&role, &addr), &[1]);
            Ok(Response::new().add_attribute("granted", role).add_attribute("account", addr))
        }
        ExecuteMsg::RevokeRole { role, account } => {
            require_admin(deps.as_ref(), &sender)?;
            check_role_name(&role)?;
            let addr = deps.api.addr_validate(&account)?;
            deps.storage.remove(&role_key(&role, &addr));
            Ok(Response::new().add_attribute("revoked", role).add_attribute("account", addr))
        }
    }
}

#[entry_point]
pub fn query(deps: Deps, _env: Env, msg: QueryMsg) -> StdResult<Binary> {
    match msg {
        QueryMsg::IsUsed { scope, nullifier } => to_binary(&deps.storage.get(&used_key(&scope, &nullifier)).is_some()),
        QueryMsg::HasRole { role, account } => {
            check_role_name(&role)?;
            let addr = deps.api.addr_validate(&account)?;
            to_binary(&has_role(deps, &role, &addr))
        }
        QueryMsg::Admin {} => {
            let admin = deps.storage.get(ADMIN).unwrap_or_default();
            to_binary(&String::from_utf8(admin).map_err(|_| StdError::generic_err("admin not utf-8"))?)
        }
    }
}
