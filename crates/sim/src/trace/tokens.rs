//! Decoding of the standard token events: ERC-20, ERC-721 and ERC-1155
//! transfers and approvals.
//!
//! Only logs with exactly the standard shape (topic count, data length,
//! clean address topics) are decoded; anything else stays a plain log.

use alloy_primitives::{b256, Address, Log, B256, U256};

/// `Transfer(address,address,uint256)`, shared by ERC-20 (value in data) and
/// ERC-721 (token id as third indexed topic).
pub const TRANSFER_TOPIC: B256 = b256!("0xddf252ad1be2c89b69c2b068fc378daa952ba7f163c4a11628f55a4df523b3ef");
/// `Approval(address,address,uint256)`, shared by ERC-20 and ERC-721.
pub const APPROVAL_TOPIC: B256 = b256!("0x8c5be1e5ebec7d5bd14f71427d1e84f3dd0314c0f7b2291e5b200ac8c7c3b925");
/// `ApprovalForAll(address,address,bool)` (ERC-721 and ERC-1155).
pub const APPROVAL_FOR_ALL_TOPIC: B256 = b256!("0x17307eab39ab6107e8899845ad3d59bd9653f200f220920489ca2b5937696c31");
/// `TransferSingle(address,address,address,uint256,uint256)` (ERC-1155).
pub const TRANSFER_SINGLE_TOPIC: B256 = b256!("0xc3d58168c5ae7397731d063d5bbf3d657854427343f4c083240f7aacaa2d0f62");
/// `TransferBatch(address,address,address,uint256[],uint256[])` (ERC-1155).
pub const TRANSFER_BATCH_TOPIC: B256 = b256!("0x4a39dc06d4c0dbc64b70af90fd698a233a518aa5d07e595d983b8c0526c8f7fb");

/// `Deposit(address,uint256)`: WETH9 wrapped ether for `dst`.
pub const DEPOSIT_TOPIC: B256 = b256!("0xe1fffcc4923d04b559f4d29a8bfc6cda04eb5b0d3c460751c2402c5c5cc9109c");
/// `Withdrawal(address,uint256)`: WETH9 unwrapped ether for `src`.
pub const WITHDRAWAL_TOPIC: B256 = b256!("0x7fcf532c15f0a6db0bd6d0e038bea71d30d808c7d98cb3bf7268a95bf5081b65");

/// A decoded token event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TokenEventKind {
    /// ERC-20 `Transfer`.
    Erc20Transfer {
        /// Sender (zero for a mint).
        from: Address,
        /// Receiver (zero for a burn).
        to: Address,
        /// Amount in the token's base unit.
        amount: U256,
    },
    /// ERC-20 `Approval`.
    Erc20Approval {
        /// Holder.
        owner: Address,
        /// Who may spend.
        spender: Address,
        /// Allowance.
        amount: U256,
    },
    /// ERC-721 `Transfer`.
    Erc721Transfer {
        /// Previous owner (zero for a mint).
        from: Address,
        /// New owner (zero for a burn).
        to: Address,
        /// The token.
        token_id: U256,
    },
    /// ERC-721 `Approval`.
    Erc721Approval {
        /// Owner.
        owner: Address,
        /// Approved address (zero clears).
        approved: Address,
        /// The token.
        token_id: U256,
    },
    /// `ApprovalForAll` (ERC-721 or ERC-1155).
    ApprovalForAll {
        /// Holder.
        owner: Address,
        /// Operator.
        operator: Address,
        /// Granted or revoked.
        approved: bool,
    },
    /// ERC-1155 `TransferSingle`.
    Erc1155Transfer {
        /// Who moved the tokens.
        operator: Address,
        /// Sender (zero for a mint).
        from: Address,
        /// Receiver (zero for a burn).
        to: Address,
        /// Token id.
        id: U256,
        /// Amount.
        amount: U256,
    },
    /// ERC-1155 `TransferBatch`.
    Erc1155TransferBatch {
        /// Who moved the tokens.
        operator: Address,
        /// Sender (zero for a mint).
        from: Address,
        /// Receiver (zero for a burn).
        to: Address,
        /// Token ids and amounts, pairwise.
        transfers: Vec<(U256, U256)>,
    },
}

impl TokenEventKind {
    /// Whether the event moves tokens (as opposed to granting allowances).
    pub fn is_transfer(&self) -> bool {
        matches!(
            self,
            Self::Erc20Transfer { .. }
                | Self::Erc721Transfer { .. }
                | Self::Erc1155Transfer { .. }
                | Self::Erc1155TransferBatch { .. }
        )
    }
}

/// An address in a topic: the upper 12 bytes must be zero.
fn topic_address(topic: &B256) -> Option<Address> {
    topic[..12].iter().all(|b| *b == 0).then(|| Address::from_slice(&topic[12..]))
}

/// A 32-byte word at `offset` in `data`.
fn word(data: &[u8], offset: usize) -> Option<U256> {
    let end = offset.checked_add(32)?;
    data.get(offset..end).map(U256::from_be_slice)
}

/// A word used as an offset or length: must fit in `usize`.
fn word_usize(data: &[u8], offset: usize) -> Option<usize> {
    usize::try_from(word(data, offset)?).ok()
}

/// An ABI `uint256[]` whose head is at `head` in `data`.
fn uint_array(data: &[u8], head: usize) -> Option<Vec<U256>> {
    let start = word_usize(data, head)?;
    let len = word_usize(data, start)?;
    // Every element is a word that must be present: bounds the allocation.
    if len > data.len() / 32 {
        return None;
    }
    (0..len).map(|i| word(data, start.checked_add(32)?.checked_add(i.checked_mul(32)?)?)).collect()
}

/// A `Deposit(address indexed, uint256)` (true) or `Withdrawal(address
/// indexed, uint256)` (false) with its account and amount. Many contracts
/// emit events of these names; the tracer counts one as wrapping only when
/// the ether moved matches.
pub fn decode_wrap(log: &Log) -> Option<(bool, Address, U256)> {
    let topics = log.topics();
    let data = log.data.data.as_ref();
    if topics.len() != 2 || data.len() != 32 {
        return None;
    }
    let deposit = match topics[0] {
        t if t == DEPOSIT_TOPIC => true,
        t if t == WITHDRAWAL_TOPIC => false,
        _ => return None,
    };
    Some((deposit, topic_address(&topics[1])?, word(data, 0)?))
}

/// Decodes `log` if it is a standard token event.
pub fn decode(log: &Log) -> Option<TokenEventKind> {
    let topics = log.topics();
    let data = log.data.data.as_ref();
    let sig = *topics.first()?;
    if sig == TRANSFER_TOPIC {
        match (topics.len(), data.len()) {
            (3, 32) => Some(TokenEventKind::Erc20Transfer {
                from: topic_address(&topics[1])?,
                to: topic_address(&topics[2])?,
                amount: word(data, 0)?,
            }),
            (4, 0) => Some(TokenEventKind::Erc721Transfer {
                from: topic_address(&topics[1])?,
                to: topic_address(&topics[2])?,
                token_id: topics[3].into(),
            }),
            _ => None,
        }
    } else if sig == APPROVAL_TOPIC {
        match (topics.len(), data.len()) {
            (3, 32) => Some(TokenEventKind::Erc20Approval {
                owner: topic_address(&topics[1])?,
                spender: topic_address(&topics[2])?,
                amount: word(data, 0)?,
            }),
            (4, 0) => Some(TokenEventKind::Erc721Approval {
                owner: topic_address(&topics[1])?,
                approved: topic_address(&topics[2])?,
                token_id: topics[3].into(),
            }),
            _ => None,
        }
    } else if sig == APPROVAL_FOR_ALL_TOPIC {
        (topics.len() == 3 && data.len() == 32).then_some(())?;
        Some(TokenEventKind::ApprovalForAll {
            owner: topic_address(&topics[1])?,
            operator: topic_address(&topics[2])?,
            approved: !word(data, 0)?.is_zero(),
        })
    } else if sig == TRANSFER_SINGLE_TOPIC {
        (topics.len() == 4 && data.len() == 64).then_some(())?;
        Some(TokenEventKind::Erc1155Transfer {
            operator: topic_address(&topics[1])?,
            from: topic_address(&topics[2])?,
            to: topic_address(&topics[3])?,
            id: word(data, 0)?,
            amount: word(data, 32)?,
        })
    } else if sig == TRANSFER_BATCH_TOPIC {
        (topics.len() == 4).then_some(())?;
        let ids = uint_array(data, 0)?;
        let amounts = uint_array(data, 32)?;
        (ids.len() == amounts.len()).then_some(())?;
        Some(TokenEventKind::Erc1155TransferBatch {
            operator: topic_address(&topics[1])?,
            from: topic_address(&topics[2])?,
            to: topic_address(&topics[3])?,
            transfers: ids.into_iter().zip(amounts).collect(),
        })
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use alloy_primitives::{address, keccak256, Bytes, LogData};

    use super::*;

    #[test]
    fn topics_are_the_event_signature_hashes() {
        for (sig, topic) in [
            ("Transfer(address,address,uint256)", TRANSFER_TOPIC),
            ("Approval(address,address,uint256)", APPROVAL_TOPIC),
            ("ApprovalForAll(address,address,bool)", APPROVAL_FOR_ALL_TOPIC),
            ("TransferSingle(address,address,address,uint256,uint256)", TRANSFER_SINGLE_TOPIC),
            ("TransferBatch(address,address,address,uint256[],uint256[])", TRANSFER_BATCH_TOPIC),
            ("Deposit(address,uint256)", DEPOSIT_TOPIC),
            ("Withdrawal(address,uint256)", WITHDRAWAL_TOPIC),
        ] {
            assert_eq!(keccak256(sig), topic, "{sig}");
        }
    }

    fn log(topics: Vec<B256>, data: Vec<u8>) -> Log {
        Log {
            address: address!("0x00000000000000000000000000000000000000aa"),
            data: LogData::new_unchecked(topics, Bytes::from(data)),
        }
    }

    fn addr_topic(a: Address) -> B256 {
        a.into_word()
    }

    fn w(n: u64) -> [u8; 32] {
        U256::from(n).to_be_bytes()
    }

    #[test]
    fn decodes_each_standard_event() {
        let a = address!("0x1111111111111111111111111111111111111111");
        let b = address!("0x2222222222222222222222222222222222222222");
        let erc20 = log(vec![TRANSFER_TOPIC, addr_topic(a), addr_topic(b)], w(5).to_vec());
        assert_eq!(decode(&erc20), Some(TokenEventKind::Erc20Transfer { from: a, to: b, amount: U256::from(5) }));
        let erc721 = log(vec![TRANSFER_TOPIC, addr_topic(a), addr_topic(b), w(9).into()], vec![]);
        assert_eq!(decode(&erc721), Some(TokenEventKind::Erc721Transfer { from: a, to: b, token_id: U256::from(9) }));
        let approve = log(vec![APPROVAL_TOPIC, addr_topic(a), addr_topic(b)], w(7).to_vec());
        assert!(matches!(decode(&approve), Some(TokenEventKind::Erc20Approval { .. })));
        let all = log(vec![APPROVAL_FOR_ALL_TOPIC, addr_topic(a), addr_topic(b)], w(1).to_vec());
        assert_eq!(decode(&all), Some(TokenEventKind::ApprovalForAll { owner: a, operator: b, approved: true }));
        let single =
            log(vec![TRANSFER_SINGLE_TOPIC, addr_topic(a), addr_topic(a), addr_topic(b)], [w(3), w(4)].concat());
        assert!(matches!(decode(&single), Some(TokenEventKind::Erc1155Transfer { .. })));
        // ids at 0x40: [1, 2]; amounts at 0xa0: [10, 20]
        let batch_data = [w(0x40), w(0xa0), w(2), w(1), w(2), w(2), w(10), w(20)].concat();
        let batch = log(vec![TRANSFER_BATCH_TOPIC, addr_topic(a), addr_topic(a), addr_topic(b)], batch_data);
        assert_eq!(
            decode(&batch),
            Some(TokenEventKind::Erc1155TransferBatch {
                operator: a,
                from: a,
                to: b,
                transfers: vec![(U256::from(1), U256::from(10)), (U256::from(2), U256::from(20))],
            })
        );
    }

    #[test]
    fn rejects_non_standard_shapes() {
        let a = address!("0x1111111111111111111111111111111111111111");
        // Dirty upper bits in an address topic.
        let dirty = log(vec![TRANSFER_TOPIC, B256::repeat_byte(0xff), a.into_word()], w(1).to_vec());
        assert_eq!(decode(&dirty), None);
        // Wrong data length.
        let short = log(vec![TRANSFER_TOPIC, a.into_word(), a.into_word()], vec![1, 2, 3]);
        assert_eq!(decode(&short), None);
        // A batch whose array length points past the data.
        let huge = [w(0x40), w(0x60), w(u64::MAX), w(0)].concat();
        let batch = log(vec![TRANSFER_BATCH_TOPIC, a.into_word(), a.into_word(), a.into_word()], huge);
        assert_eq!(decode(&batch), None);
        assert_eq!(decode(&log(vec![], vec![])), None);
    }
}
