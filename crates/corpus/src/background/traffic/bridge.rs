//! Both directions of the bridges: deposits out through the lock-and-release
//! inbox and the canonical bridge; withdrawals in through the canonical
//! bridge (the root poster posts each batch's root, the recipient or a
//! relayer finalizes with a proof) and the attested bridge (m-of-n
//! attesters sign, the recipient or a relayer submits).

use alloy_primitives::{Address, Bytes, U256};
use rand::{seq::SliceRandom, Rng};

use super::{round_sig, Kind, Traffic};
use crate::{
    background::families::{
        post_root_call, release_digest, remote_withdrawals, Batch, CHALLENGE_PERIOD, REMOTE_DOMAIN,
    },
    contracts::{AttestedBridge, BridgeInbox, RootBridge},
    det::log_uniform,
    scenarios::amt,
    CorpusError,
};

impl Traffic<'_> {
    pub(super) fn bridge_send(&mut self, user: usize) -> Result<bool, CorpusError> {
        let a = self.w.a;
        let who = self.addr(user);
        let token = if self.rng.gen_bool(0.5) { a.weth } else { a.usd };
        let balance = self.bal(token, who)?;
        if balance.is_zero() {
            return Ok(false);
        }
        if let Some(done) = self.need_approval(user, token, a.bridge, Kind::BridgeSend)? {
            return Ok(done);
        }
        let amount = self.portion(balance);
        if amount.is_zero() {
            return Ok(false);
        }
        let call = BridgeInbox::sendCall { token, amount, recipient: who };
        let note = format!("BridgeInbox.send({}, {}, {})", self.name(token), amt(amount), self.user(user).role);
        self.send(self.user(user), a.bridge, U256::ZERO, &call, note)
    }
}

/// The canonical bridge.
impl Traffic<'_> {
    /// A deposit to the remote chain through the canonical bridge: ETH, USD
    /// or WETH; the bridge keeps its 0.1% fee.
    pub(super) fn root_deposit(&mut self, user: usize) -> Result<bool, CorpusError> {
        let (a, bridge) = (self.w.a, self.w.f.a.root_bridge);
        let who = self.addr(user);
        let role = self.user(user).role.clone();
        if self.rng.gen_bool(0.4) {
            let amount = self.portion(self.chain.balance(who));
            if amount.is_zero() {
                return Ok(false);
            }
            let note = format!("RootBridge.depositETH({role}) {{value: {}}}", amt(amount));
            return self.send(self.user(user), bridge, amount, &RootBridge::depositETHCall { recipient: who }, note);
        }
        let token = if self.rng.gen_bool(0.6) { a.usd } else { a.weth };
        let balance = self.bal(token, who)?;
        if balance.is_zero() {
            return Ok(false);
        }
        if let Some(done) = self.need_approval(user, token, bridge, Kind::RootDeposit)? {
            return Ok(done);
        }
        let amount = self.portion(balance);
        if amount.is_zero() {
            return Ok(false);
        }
        let note = format!("RootBridge.deposit({}, {}, {role})", self.name(token), amt(amount));
        self.send(self.user(user), bridge, U256::ZERO, &RootBridge::depositCall { token, amount, recipient: who }, note)
    }

    /// The root poster posts the root of a new batch of 4–24 withdrawals
    /// initiated on the remote chain.
    pub(super) fn post_root(&mut self) -> Result<bool, CorpusError> {
        let w = self.w;
        let n = self.rng.gen_range(4..=24);
        let first = self.fam.next_remote_nonce;
        let withdrawals = remote_withdrawals(&mut self.rng, &w.users, &w.a, first, n);
        let id = self.fam.batches.len() as u64;
        let batch = Batch::new(id, self.chain.block().timestamp, withdrawals);
        let note = format!(
            "RootBridge.postRoot({id}, {}, {n}) - withdrawals {first}..{}",
            batch.tree.root(),
            first + n as u64
        );
        let ok = self.send_as(
            "root-post",
            &w.f.roles.root_poster,
            w.f.a.root_bridge,
            U256::ZERO,
            &post_root_call(&batch),
            note,
        )?;
        if ok {
            self.fam.next_remote_nonce += n as u64;
            self.fam.batches.push(batch);
        }
        Ok(ok)
    }

    /// Withdrawals whose challenge period is over and that nobody has
    /// finalized: (batch index, position).
    fn finalizable(&self) -> Vec<(usize, usize)> {
        let now = self.chain.block().timestamp;
        let mut out = Vec::new();
        for (b, batch) in self.fam.batches.iter().enumerate() {
            if batch.posted_at + CHALLENGE_PERIOD > now {
                continue;
            }
            for k in 0..batch.withdrawals.len() {
                if !self.fam.finalized.contains(&(b, k)) {
                    out.push((b, k));
                }
            }
        }
        out
    }

    /// Finalizes withdrawal (b, k) from `from`.
    fn finalize(
        &mut self,
        tag: &'static str,
        from: usize,
        (b, k): (usize, usize),
        relayer: bool,
    ) -> Result<bool, CorpusError> {
        let w = self.w;
        let batch = &self.fam.batches[b];
        let wd = batch.withdrawals[k].clone();
        let call = RootBridge::finalizeWithdrawalCall {
            batchId: U256::from(batch.id),
            w: wd.sol(),
            proof: batch.tree.proof(k),
        };
        let token = if wd.token == Address::ZERO { "ETH" } else { self.name(wd.token) };
        let (actor, who) = if relayer {
            let r = &w.f.roles.relayers[from];
            (r, format!(" - relayed, fee {}", amt(wd.relayer_fee)))
        } else {
            (self.user(from), String::new())
        };
        let note = format!(
            "RootBridge.finalizeWithdrawal({}, [{}, {}, {token}, {}], proof){who}",
            batch.id,
            wd.nonce,
            self.user(wd.recipient).role,
            amt(wd.amount)
        );
        let ok = self.send_as(tag, actor, w.f.a.root_bridge, U256::ZERO, &call, note)?;
        if ok {
            self.fam.finalized.insert((b, k));
        }
        Ok(ok)
    }

    /// A recipient finalizes one of its withdrawals (the user picked is
    /// only a hint: recipients are whoever the remote chain paid).
    pub(super) fn bridge_finalize(&mut self, user: usize) -> Result<bool, CorpusError> {
        let ready = self.finalizable();
        let own: Vec<(usize, usize)> =
            ready.iter().copied().filter(|(b, k)| self.fam.batches[*b].withdrawals[*k].recipient == user).collect();
        let Some(&pick) = own.choose(&mut self.rng).or_else(|| ready.choose(&mut self.rng)) else { return Ok(false) };
        let recipient = self.fam.batches[pick.0].withdrawals[pick.1].recipient;
        self.finalize("bridge-finalize", recipient, pick, false)
    }

    /// A relayer finalizes a withdrawal for its recipient and keeps the fee.
    pub(super) fn relay_finalize(&mut self) -> Result<bool, CorpusError> {
        let ready = self.finalizable();
        let Some(&pick) = ready.choose(&mut self.rng) else { return Ok(false) };
        let r = self.rng.gen_range(0..self.w.f.roles.relayers.len());
        self.finalize("bridge-finalize-relayed", r, pick, true)
    }
}

/// The attested bridge.
impl Traffic<'_> {
    /// A transfer from the remote chain to `user`, signed by enough of the
    /// current attesters (sorted by address) and submitted by the user, or
    /// by relayer `relayer`.
    pub(super) fn attested_release(&mut self, user: usize, relayer: Option<usize>) -> Result<bool, CorpusError> {
        let w = self.w;
        let (bridge, orb) = (w.f.a.attested, w.f.a.orb);
        let (token, lo, hi) = match self.rng.gen_range(0..3) {
            0 => (w.a.usd, 20.0, 20_000.0),
            1 => (w.a.weth, 0.01, 10.0),
            _ => (orb, 10.0, 50_000.0),
        };
        let amount = round_sig(U256::from((log_uniform(&mut self.rng, lo, hi) * 1e18) as u128), 3);
        if amount.is_zero() || self.bal(token, bridge)? < amount {
            return Ok(false);
        }
        let nonce = self.fam.attested_nonce;
        self.fam.attested_nonce += 1;
        let release =
            AttestedBridge::Release { origin: REMOTE_DOMAIN, nonce, token, recipient: self.addr(user), amount };
        let digest = release_digest(w.f.attested_domain, &release);
        let mut signers = self.fam.attesters.clone();
        signers.shuffle(&mut self.rng);
        signers.truncate(if self.rng.gen_bool(0.8) { 3 } else { 4 });
        let mut signers: Vec<&crate::Actor> = signers.iter().map(|i| &w.f.roles.attesters[*i]).collect();
        signers.sort_by_key(|a| a.address());
        let mut signatures = Vec::with_capacity(signers.len());
        for s in &signers {
            signatures.push(Bytes::from(s.sign_digest(digest)?));
        }
        let names = signers.iter().map(|s| s.role.as_str()).collect::<Vec<_>>().join(", ");
        let note = format!(
            "AttestedBridge.release([{REMOTE_DOMAIN}, {nonce}, {}, {}, {}], signatures of {names})",
            self.name(token),
            self.user(user).role,
            amt(amount)
        );
        let call = AttestedBridge::releaseCall { r: release, signatures };
        match relayer {
            None => self.send(self.user(user), bridge, U256::ZERO, &call, note),
            Some(r) => {
                let note = format!("{note} - relayed");
                self.send_as("attested-release-relayed", &w.f.roles.relayers[r], bridge, U256::ZERO, &call, note)
            }
        }
    }

    /// A relayer submits a signed transfer for its recipient.
    pub(super) fn relay_attested(&mut self) -> Result<bool, CorpusError> {
        let user = self.pick_user();
        let r = self.rng.gen_range(0..self.w.f.roles.relayers.len());
        self.attested_release(user, Some(r))
    }

    /// The bridge's owner swaps one attester for the one standing by.
    pub(super) fn rotate_attesters(&mut self) -> Result<bool, CorpusError> {
        let w = self.w;
        let all = w.f.roles.attesters.len();
        let Some(out_pos) = (0..self.fam.attesters.len()).collect::<Vec<_>>().choose(&mut self.rng).copied() else {
            return Ok(false);
        };
        let Some(incoming) = (0..all).find(|i| !self.fam.attesters.contains(i)) else { return Ok(false) };
        let mut next = self.fam.attesters.clone();
        let leaving = next[out_pos];
        next[out_pos] = incoming;
        let call = AttestedBridge::setAttestersCall {
            attesters_: next.iter().map(|i| w.f.roles.attesters[*i].address()).collect(),
            threshold_: U256::from(3),
        };
        let note = format!(
            "AttestedBridge.setAttesters(…, 3) - {} replaces {}",
            w.f.roles.attesters[incoming].role, w.f.roles.attesters[leaving].role
        );
        let ok = self.send_as("attester-rotation", &w.deployer, w.f.a.attested, U256::ZERO, &call, note)?;
        if ok {
            self.fam.attesters = next;
        }
        Ok(ok)
    }
}
