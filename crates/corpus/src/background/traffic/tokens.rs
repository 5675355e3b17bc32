//! ETH and token transfers, wrapping, and allowances between users.

use alloy_primitives::{Bytes, TxKind, U256};
use rand::{seq::SliceRandom, Rng};
use vigil_fixture::Label;

use super::{Kind, Traffic};
use crate::{
    contracts::{Token, WETH},
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
        let from = self.user(user);
        let note = format!("{}: send {} ETH to {}", from.role, amt(amount), self.user(to).role);
        let sent = self.chain.try_send(Label::Benign, from, TxKind::Call(self.addr(to)), amount, Bytes::new(), note)?;
        Ok(sent.is_ok())
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
