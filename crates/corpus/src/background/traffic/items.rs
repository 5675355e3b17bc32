//! NFT mints and transfers, game items and their market.

use alloy_primitives::{Bytes, U256};
use alloy_sol_types::SolCall;
use rand::{seq::SliceRandom, Rng};

use super::{round_sig, Kind, Traffic};
use crate::{
    contracts::{Collectible, GameItems, ItemPool},
    scenarios::amt,
    CorpusError,
};

impl Traffic<'_> {
    pub(super) fn nft_mint(&mut self, user: usize) -> Result<bool, CorpusError> {
        let n = *[1u64, 1, 1, 2, 3].choose(&mut self.rng).unwrap_or(&1);
        let value = self.w.mint_price * U256::from(n);
        if self.chain.balance(self.addr(user)) < value {
            return Ok(false);
        }
        let note = format!("Collectible.mint({n}) {{value: {}}}", amt(value));
        let call = Collectible::mintCall { quantity: U256::from(n) };
        let Some(output) = self.emit(self.user(user), self.w.a.collectible, value, call.abi_encode().into(), note)?
        else {
            return Ok(false);
        };
        let first = Collectible::mintCall::abi_decode_returns(&output)
            .map_err(|e| CorpusError::View { to: self.w.a.collectible, reason: e.to_string() })?;
        for k in 0..n {
            self.nft_owner.insert(first + U256::from(k), user);
        }
        Ok(true)
    }

    pub(super) fn nft_transfer(&mut self, user: usize) -> Result<bool, CorpusError> {
        let owned: Vec<U256> = self.nft_owner.iter().filter(|(_, o)| **o == user).map(|(id, _)| *id).collect();
        let Some(&id) = owned.choose(&mut self.rng) else { return Ok(false) };
        let to = self.other(user);
        let (from_a, to_a) = (self.addr(user), self.addr(to));
        let role_to = self.user(to).role.clone();
        let ok = if self.rng.gen_bool(0.7) {
            let call = Collectible::safeTransferFrom_0Call { from: from_a, to: to_a, tokenId: id };
            let note = format!("Collectible.safeTransferFrom({}, {role_to}, {id})", self.user(user).role);
            self.send(self.user(user), self.w.a.collectible, U256::ZERO, &call, note)?
        } else {
            let call = Collectible::transferFromCall { from: from_a, to: to_a, tokenId: id };
            let note = format!("Collectible.transferFrom({}, {role_to}, {id})", self.user(user).role);
            self.send(self.user(user), self.w.a.collectible, U256::ZERO, &call, note)?
        };
        if ok {
            self.nft_owner.insert(id, to);
        }
        Ok(ok)
    }

    pub(super) fn item_buy(&mut self, user: usize) -> Result<bool, CorpusError> {
        let a = self.w.a;
        let who = self.addr(user);
        let weth = self.bal(a.weth, who)?;
        if weth.is_zero() {
            return Ok(false);
        }
        if let Some(done) = self.need_approval(user, a.weth, a.item_pool, Kind::ItemBuy)? {
            return Ok(done);
        }
        let n = U256::from(self.rng.gen_range(1u64..=10));
        let ri = self.chain.view(a.item_pool, &ItemPool::reserveItemsCall {})?;
        let rw = self.chain.view(a.item_pool, &ItemPool::reserveWethCall {})?;
        if n >= ri {
            return Ok(false);
        }
        let cost = rw * n * U256::from(1000) / ((ri - n) * U256::from(997)) + U256::from(1);
        let max = round_sig(cost * U256::from(102) / U256::from(100), 3) + U256::from(1);
        if max > weth {
            return Ok(false);
        }
        let note = format!("ItemPool.buyItems({n}, {})", amt(max));
        self.send(
            self.user(user),
            a.item_pool,
            U256::ZERO,
            &ItemPool::buyItemsCall { itemsOut: n, maxWethIn: max },
            note,
        )
    }

    pub(super) fn items_held(&self, user: usize) -> Result<U256, CorpusError> {
        self.chain.view(self.w.a.items, &GameItems::balanceOfCall { _0: U256::from(1), _1: self.addr(user) })
    }

    pub(super) fn item_sell(&mut self, user: usize) -> Result<bool, CorpusError> {
        let a = self.w.a;
        let held = self.items_held(user)?;
        if held.is_zero() {
            return Ok(false);
        }
        let owner = self.addr(user);
        if !self.approved.contains(&(owner, a.items, a.item_pool)) {
            let call = GameItems::setApprovalForAllCall { operator: a.item_pool, approved: true };
            let ok = self.send_as(
                "approval",
                self.user(user),
                a.items,
                U256::ZERO,
                &call,
                "GameItems.setApprovalForAll(ItemPool, true)".into(),
            )?;
            if ok {
                self.approved.insert((owner, a.items, a.item_pool));
                self.pending.push_back((user, Kind::ItemSell));
                self.approval_emitted = true;
            }
            return Ok(ok);
        }
        let n = U256::from(self.rng.gen_range(1u64..=held.min(U256::from(10)).to::<u64>()));
        let ri = self.chain.view(a.item_pool, &ItemPool::reserveItemsCall {})?;
        let rw = self.chain.view(a.item_pool, &ItemPool::reserveWethCall {})?;
        let out = n * U256::from(997) * rw / (ri * U256::from(1000) + n * U256::from(997));
        let min = round_sig(self.with_slippage(out), 3);
        let note = format!("ItemPool.sellItems({n}, {})", amt(min));
        self.send(
            self.user(user),
            a.item_pool,
            U256::ZERO,
            &ItemPool::sellItemsCall { itemsIn: n, minWethOut: min },
            note,
        )
    }

    pub(super) fn item_transfer(&mut self, user: usize) -> Result<bool, CorpusError> {
        let held = self.items_held(user)?;
        if held.is_zero() {
            return Ok(false);
        }
        let n = U256::from(self.rng.gen_range(1u64..=held.min(U256::from(5)).to::<u64>()));
        let to = self.other(user);
        let call = GameItems::safeTransferFromCall {
            from: self.addr(user),
            to: self.addr(to),
            id: U256::from(1),
            amount: n,
            data: Bytes::new(),
        };
        let note = format!("GameItems.safeTransferFrom({}, {}, 1, {n}, 0x)", self.user(user).role, self.user(to).role);
        self.send(self.user(user), self.w.a.items, U256::ZERO, &call, note)
    }
}
