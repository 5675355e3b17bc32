//! Rust bindings of Vigil's contracts (`contracts/src`) and the point
//! encodings they take.
//!
//! Owns: the `sol!` bindings generated from the committed artifacts
//! (`contracts/artifacts/*.json`, rebuilt and diffed by `node build.mjs
//! --check`), and the conversion of the protocol's compressed BLS points
//! (48-byte keys, 96-byte signatures, as `blst` writes them) into the
//! uncompressed EIP-2537 forms the contracts take (docs/decisions/0005).
//!
//! Also: an in-memory chain in `vigil-sim`'s revm ([`evm`], fork Prague) and
//! the contracts deployed in it ([`onchain`]): registry, slasher and
//! verifier, a committee registered and published, certificates verified
//! (`vigil cert verify --onchain`), the calls built from `vigil-types`
//! values. Talking to a real chain over JSON-RPC is not here.
//!
//! ```text
//! compressed key (48) --g1_eip2537--> x || y, 64 bytes each (128)   -> publishCommittee
//! compressed sig (96) --g2_affine--> x.c0 || x.c1 || y.c0 || y.c1 (192) -> verify, register
//! ```
#![cfg_attr(not(test), deny(clippy::unwrap_used, clippy::expect_used, clippy::panic))]

mod error;
pub mod evm;
pub mod onchain;
mod points;

pub use error::PointError;
pub use points::{g1_eip2537, g2_affine, g2_affine_to_eip2537};

/// `CertificateVerifier`: committees per epoch and on-chain certificate
/// verification.
pub mod certificate_verifier {
    alloy_sol_types::sol!(
        #[sol(all_derives)]
        CertificateVerifier,
        concat!(env!("CARGO_MANIFEST_DIR"), "/../artifacts/CertificateVerifier.json")
    );
}

/// `InspectorRegistry`: stake, BLS key with its proof of possession
/// (checked on-chain), peer id.
pub mod inspector_registry {
    alloy_sol_types::sol!(
        #[sol(all_derives)]
        InspectorRegistry,
        concat!(env!("CARGO_MANIFEST_DIR"), "/../artifacts/InspectorRegistry.json")
    );
}

/// `Slasher`: equivocation evidence checked on-chain, the signer's stake
/// slashed in the registry, the reporter rewarded.
pub mod slasher {
    alloy_sol_types::sol!(
        #[sol(all_derives)]
        Slasher,
        concat!(env!("CARGO_MANIFEST_DIR"), "/../artifacts/Slasher.json")
    );
}

/// `QuarantineCourt`: disputes over quarantined transactions, with bonds,
/// an arbiter's ruling within a window, and the `Released` event the gate
/// acts on.
pub mod quarantine_court {
    alloy_sol_types::sol!(
        #[sol(all_derives)]
        QuarantineCourt,
        concat!(env!("CARGO_MANIFEST_DIR"), "/../artifacts/QuarantineCourt.json")
    );
}

pub use certificate_verifier::CertificateVerifier;
pub use inspector_registry::InspectorRegistry;
pub use quarantine_court::QuarantineCourt;
pub use slasher::Slasher;
