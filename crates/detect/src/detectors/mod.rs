//! The built-in detectors. Each reads the [`Analysis`] and returns findings;
//! none reads a fixture's name, label or note, and none keys on particular
//! addresses, selectors or bytecode.

use crate::{analysis::Analysis, finding::Finding};

mod amm;
mod flash_loan;
mod mint;
mod position;
mod price;
mod privileged;
mod reentrancy;
mod repeated;
mod replay;
mod spend;
mod value;

/// A detector: a rule id and a function of the analysis.
#[derive(Debug, Clone, Copy)]
pub struct Detector {
    /// Rule id its findings carry.
    pub id: &'static str,
    /// What it looks for, one line.
    pub summary: &'static str,
    /// The check.
    pub run: fn(&Analysis<'_>) -> Vec<Finding>,
}

/// Every built-in detector, in the order they run.
pub const ALL: &[Detector] = &[
    Detector {
        id: value::RULE,
        summary: "a protocol loses assets with nothing in return while the sender's side gains",
        run: value::detect,
    },
    Detector {
        id: reentrancy::RULE,
        summary: "a contract re-entered from the sender's side and its state changed",
        run: reentrancy::detect,
    },
    Detector {
        id: reentrancy::READ_ONLY_RULE,
        summary:
            "a third contract read a contract's state while it was mid-call and had handed control to the sender's side",
        run: reentrancy::detect_read_only,
    },
    Detector {
        id: privileged::RULE,
        summary: "a privileged slot (owner, admin, EIP-1967) set to the sender's side by a stranger",
        run: privileged::detect,
    },
    Detector {
        id: spend::RULE,
        summary: "tokens moved out of holders not party to the transaction, under an allowance given to another",
        run: spend::detect,
    },
    Detector { id: replay::RULE, summary: "the same signature verified more than once", run: replay::detect },
    Detector {
        id: repeated::RULE,
        summary: "one call repeated many times against a contract that loses assets",
        run: repeated::detect,
    },
    Detector {
        id: amm::RULE,
        summary: "a constant-product pool's reserve product fell without liquidity removed",
        run: amm::detect,
    },
    Detector {
        id: mint::RULE,
        summary: "tokens minted to the sender's side with nothing paid and no authorization",
        run: mint::detect,
    },
    Detector {
        id: position::RULE,
        summary: "a position opened and closed within the transaction while the protocol pays out something else",
        run: position::detect,
    },
    Detector {
        id: flash_loan::RULE,
        summary: "assets lent and repaid within the transaction",
        run: flash_loan::detect,
    },
    Detector {
        id: price::RULE,
        summary: "a stored value moved, read by a third contract, and moved back",
        run: price::detect,
    },
    Detector {
        id: price::DONATION_RULE,
        summary: "assets pushed into a share-issuing contract without shares in return",
        run: price::detect_donation,
    },
];
