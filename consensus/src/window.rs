//! The epoch windows of DESIGN §3.
//!
//! - A node in epoch `e` takes votes of epochs `e` and `e + 1` (a peer may
//!   already have moved on).
//! - The gate in epoch `e` accepts certificates of epochs `e - 1` and `e`
//!   (a certificate of epoch `c` is good during `c` and `c + 1`).

/// Whether a node at `current` takes a vote of `vote_epoch`.
pub fn vote_epoch_accepted(current: u64, vote_epoch: u64) -> bool {
    vote_epoch == current || Some(vote_epoch) == current.checked_add(1)
}

/// Whether the gate at `current` accepts a certificate of `cert_epoch`.
pub fn certificate_epoch_accepted(current: u64, cert_epoch: u64) -> bool {
    cert_epoch == current || cert_epoch.checked_add(1) == Some(current)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn windows() {
        assert!(vote_epoch_accepted(7, 7) && vote_epoch_accepted(7, 8));
        assert!(!vote_epoch_accepted(7, 6) && !vote_epoch_accepted(7, 9));
        assert!(certificate_epoch_accepted(7, 7) && certificate_epoch_accepted(7, 6));
        assert!(!certificate_epoch_accepted(7, 8) && !certificate_epoch_accepted(7, 5));
        assert!(vote_epoch_accepted(u64::MAX, u64::MAX) && !vote_epoch_accepted(u64::MAX, 0));
        assert!(certificate_epoch_accepted(0, 0) && !certificate_epoch_accepted(0, u64::MAX));
    }
}
