//! ETH and token transfers, wrapping, allowances between users, and
//! EIP-2612 permits a spender submits and then pulls with `transferFrom`.

use alloy_primitives::{Bytes, U256};
use rand::{seq::SliceRandom, Rng};

use super::{Kind, Traffic};
use crate::{
    background::families::{permit_digest, split_signature},
    contracts::{PermitToken, Token, WETH},
    scenarios::amt,
    CorpusError,
};

impl Traffic<'_> {
    pub(super) fn eth_transfer(&mut self, user: usize) -> Result<bool, CorpusError> {
        let balance = self.chain.balance(self.addr(user));
        let amount = self.portion(balance);
        if amount.is_zero() {
            return Ok(false);
        }
        let to = self.other(user);
        let note = format!("send {} ETH to {}", amt(amount), self.user(to).role);
        Ok(self.emit(self.user(user), self.addr(to), amount, Bytes::new(), note)?.is_some())
    }

    pub(super) fn wrap(&mut self, user: usize) -> Result<bool, CorpusError> {
        let amount = self.portion(self.chain.balance(self.addr(user)));
        if amount.is_zero() {
            return Ok(false);
        }
        let note = format!("WETH.deposit() {{value: {}}}", amt(amount));
        self.send(self.user(user), self.w.a.weth, amount, &WETH::depositCall {}, note)
    }

    pub(super) fn unwrap(&mut self, user: usize) -> Result<bool, CorpusError> {
        let held = self.bal(self.w.a.weth, self.addr(user))?;
        let amount = if self.rng.gen_bool(0.3) { held } else { self.portion(held) };
        if amount.is_zero() {
            return Ok(false);
        }
        let note = format!("WETH.withdraw({})", amt(amount));
        self.send(self.user(user), self.w.a.weth, U256::ZERO, &WETH::withdrawCall { amount }, note)
    }

    pub(super) fn token_transfer(&mut self, user: usize) -> Result<bool, CorpusError> {
        let held = self.holdings(user)?;
        let Some(&(token, balance)) = held.choose(&mut self.rng) else { return Ok(false) };
        let amount = self.portion(balance);
        if amount.is_zero() {
            return Ok(false);
        }
        let to = self.other(user);
        let note = format!("{}.transfer({}, {})", self.name(token), self.user(to).role, amt(amount));
        self.send(self.user(user), token, U256::ZERO, &Token::transferCall { to: self.addr(to), amount }, note)
    }

    /// Approves another user for a token (a payment allowance); that user
    /// pulls part of it later with `transferFrom`.
    pub(super) fn allow_friend(&mut self, user: usize) -> Result<bool, CorpusError> {
        if let Some(pos) = self.allowances.iter().position(|(_, spender, _)| *spender == user) {
            let (owner, spender, token) = self.allowances.remove(pos);
            let allowance =
                self.chain.view(token, &Token::allowanceCall { _0: self.addr(owner), _1: self.addr(spender) })?;
            let balance = self.bal(token, self.addr(owner))?;
            let amount = self.portion(allowance.min(balance));
            if amount.is_zero() {
                return Ok(false);
            }
            let call = Token::transferFromCall { from: self.addr(owner), to: self.addr(spender), amount };
            let note = format!(
                "{}.transferFrom({}, {}, {})",
                self.name(token),
                self.user(owner).role,
                self.user(spender).role,
                amt(amount)
            );
            return self.send(self.user(spender), token, U256::ZERO, &call, note);
        }
        let held = self.holdings(user)?;
        let Some(&(token, balance)) = held.choose(&mut self.rng) else { return Ok(false) };
        let amount = self.portion(balance);
        if amount.is_zero() {
            return Ok(false);
        }
        let spender = self.other(user);
        let call = Token::approveCall { spender: self.addr(spender), amount };
        let note = format!("{}.approve({}, {})", self.name(token), self.user(spender).role, amt(amount));
        let ok = self.send(self.user(user), token, U256::ZERO, &call, note)?;
        if ok {
            self.allowances.push((user, spender, token));
            self.pending.push_back((spender, Kind::AllowFriend));
        }
        Ok(ok)
    }
}

/// EIP-2612 permits.
impl Traffic<'_> {
    /// The owner signs a permit for another user (a merchant, a friend
    /// paying the gas); the spender submits it and pulls the tokens later
    /// with `transferFrom`. When `user` has such a permit waiting, it pulls.
    pub(super) fn permit_pay(&mut self, user: usize) -> Result<bool, CorpusError> {
        let orb = self.w.f.a.orb;
        if let Some(pos) = self.fam.permits.iter().position(|(_, spender, _)| *spender == user) {
            let Some((owner, spender, amount)) = self.fam.permits.remove(pos) else { return Ok(false) };
            let (from, to) = (self.addr(owner), self.addr(spender));
            let allowance = self.chain.view(orb, &Token::allowanceCall { _0: from, _1: to })?;
            let amount = amount.min(allowance).min(self.bal(orb, from)?);
            if amount.is_zero() {
                return Ok(false);
            }
            let note = format!(
                "ORB.transferFrom({}, {}, {}) - after the permit",
                self.user(owner).role,
                self.user(spender).role,
                amt(amount)
            );
            let call = Token::transferFromCall { from, to, amount };
            return self.send_as("permit-transfer-from", self.user(spender), orb, U256::ZERO, &call, note);
        }
        let owner = self.addr(user);
        let balance = self.bal(orb, owner)?;
        let amount = self.portion(balance);
        if amount.is_zero() {
            return Ok(false);
        }
        let spender = self.other(user);
        let nonce = self.chain.view(orb, &PermitToken::noncesCall(owner))?;
        let deadline = U256::from(self.chain.block().timestamp + self.rng.gen_range(30u64..240) * 60);
        let digest = permit_digest(self.w.f.orb_domain, owner, self.addr(spender), amount, nonce, deadline);
        let (v, r, s) = split_signature(&self.user(user).sign_digest(digest)?);
        let call = PermitToken::permitCall { owner, spender: self.addr(spender), value: amount, deadline, v, r, s };
        let note = format!(
            "ORB.permit({}, {}, {}, {deadline}, {}'s signature) - submitted by the spender",
            self.user(user).role,
            self.user(spender).role,
            amt(amount),
            self.user(user).role
        );
        let ok = self.send(self.user(spender), orb, U256::ZERO, &call, note)?;
        if ok {
            self.fam.permits.push_back((user, spender, amount));
            self.pending.push_back((spender, Kind::PermitPay));
        }
        Ok(ok)
    }
}
