//! Role holders paying out and handing roles on: the role treasury's
//! treasurer, the council and the timelock it schedules through, the grants
//! treasury's owner, fee recipients, the keepers and the keeper registry's
//! admin (who upgrades the registry behind its proxy once per fixture).

use alloy_primitives::{keccak256, Address, Bytes, B256, U256};
use alloy_sol_types::SolCall;
use rand::{seq::SliceRandom, Rng};

use super::{round_sig, OpKind, TimelockOp, Traffic};
use crate::{
    background::families::{DRIP_INTERVAL, TIMELOCK_DELAY},
    contracts::{KeeperRegistryV1, RoleTreasury, RootBridge, Timelock, Token, TokenSale, Treasury},
    det::log_uniform,
    scenarios::amt,
    Actor, CorpusError,
};

/// An amount of about `lo`..`hi` whole units, three significant digits.
fn units(rng: &mut impl Rng, lo: f64, hi: f64) -> U256 {
    round_sig(U256::from((log_uniform(rng, lo, hi) * 1e18) as u128), 3)
}

impl Traffic<'_> {
    /// What a payment of `token` from a treasury looks like: an amount
    /// within `limit` and the treasury's balance.
    fn treasury_amount(&mut self, treasury: Address, token: Address, limit: U256) -> Result<U256, CorpusError> {
        let (lo, hi) = if token == self.w.a.usd || token == self.w.f.a.orb { (100.0, 60_000.0) } else { (0.05, 25.0) };
        let held = if token == Address::ZERO { self.chain.balance(treasury) } else { self.bal(token, treasury)? };
        Ok(units(&mut self.rng, lo, hi).min(limit).min(held))
    }

    fn treasury_token(&mut self) -> Address {
        let (a, orb) = (self.w.a, self.w.f.a.orb);
        *[a.usd, a.usd, orb, a.weth, Address::ZERO].choose(&mut self.rng).unwrap_or(&a.usd)
    }

    /// The treasurer pays a contributor or vendor, or reimburses itself.
    pub(super) fn treasurer_pay(&mut self) -> Result<bool, CorpusError> {
        let w = self.w;
        let rt = w.f.a.role_treasury;
        let treasurer = &w.f.roles.treasurers[self.fam.treasurer];
        let token = self.treasury_token();
        let limit = self.chain.view(rt, &RoleTreasury::paymentLimitCall(token))?;
        let amount = self.treasury_amount(rt, token, limit)?;
        if amount.is_zero() {
            return Ok(false);
        }
        let (to, name, memo) = if self.rng.gen_bool(0.3) {
            (treasurer.address(), treasurer.role.clone(), "expense reimbursement")
        } else {
            let u = self.pick_user();
            (
                self.addr(u),
                self.user(u).role.clone(),
                *["contributor payment", "audit invoice", "grant milestone"]
                    .choose(&mut self.rng)
                    .unwrap_or(&"payment"),
            )
        };
        let call = RoleTreasury::payCall { token, to, amount, memo: memo.into() };
        let note = format!("RoleTreasury.pay({}, {name}, {}, \"{memo}\")", self.name(token), amt(amount));
        self.send_as("treasurer-pay", treasurer, rt, U256::ZERO, &call, note)
    }

    /// The treasurer pays several contributors in one call.
    pub(super) fn treasurer_payroll(&mut self) -> Result<bool, CorpusError> {
        let w = self.w;
        let rt = w.f.a.role_treasury;
        let treasurer = &w.f.roles.treasurers[self.fam.treasurer];
        let token = if self.rng.gen_bool(0.6) { w.a.usd } else { w.f.a.orb };
        let n = self.rng.gen_range(2..=6);
        let mut to = Vec::new();
        let mut amounts = Vec::new();
        let mut names = Vec::new();
        for _ in 0..n {
            let u = self.pick_user();
            to.push(self.addr(u));
            names.push(self.user(u).role.clone());
            amounts.push(units(&mut self.rng, 500.0, 12_000.0));
        }
        let total = amounts.iter().fold(U256::ZERO, |s, x| s + *x);
        if self.bal(token, rt)? < total {
            return Ok(false);
        }
        let note = format!("RoleTreasury.payMany({}, [{}], …, \"payroll\")", self.name(token), names.join(", "));
        let call = RoleTreasury::payManyCall { token, to, amounts, memo: "payroll".into() };
        self.send_as("treasurer-payroll", treasurer, rt, U256::ZERO, &call, note)
    }

    fn next_salt(&mut self) -> B256 {
        self.fam.salt += 1;
        keccak256(format!("{}/{}", self.chain.name(), self.fam.salt))
    }

    /// The council schedules a grant from the timelock's funds to a user.
    pub(super) fn schedule_grant(&mut self) -> Result<bool, CorpusError> {
        let w = self.w;
        let tl = w.f.a.timelock;
        let user = self.pick_user();
        let token = self.treasury_token();
        let token = if token == w.a.weth { w.f.a.orb } else { token };
        let amount = self.treasury_amount(tl, token, U256::MAX)?;
        if amount.is_zero() {
            return Ok(false);
        }
        let to = self.addr(user);
        let (target, value, payload) = if token == Address::ZERO {
            (to, amount, Bytes::new())
        } else {
            (token, U256::ZERO, Bytes::from(Token::transferCall { to, amount }.abi_encode()))
        };
        let salt = self.next_salt();
        let delay = TIMELOCK_DELAY + self.rng.gen_range(0..4) * 60;
        let what = format!("grant of {} {} to {}", amt(amount), self.name(token), self.user(user).role);
        let call = Timelock::scheduleCall {
            target,
            value,
            data: payload.clone(),
            predecessor: B256::ZERO,
            salt,
            delay: U256::from(delay),
        };
        let ready_at = self.chain.block().timestamp + delay;
        let note = format!("Timelock.schedule(…, {delay}) - {what}");
        let ok = self.send_as("timelock-schedule-grant", &w.f.roles.council, tl, U256::ZERO, &call, note)?;
        if ok {
            self.fam.ops.push(TimelockOp {
                kind: OpKind::Grant(user),
                targets: vec![target],
                values: vec![value],
                payloads: vec![payload],
                salt,
                ready_at,
                what,
            });
        }
        Ok(ok)
    }

    /// The council schedules a new treasurer in place of the current one.
    pub(super) fn schedule_rotation(&mut self) -> Result<bool, CorpusError> {
        if self.fam.rotating {
            return Ok(false);
        }
        let w = self.w;
        let (tl, rt) = (w.f.a.timelock, w.f.a.role_treasury);
        let n = w.f.roles.treasurers.len();
        let old = self.fam.treasurer;
        let new = (old + self.rng.gen_range(1..n)) % n;
        let role = keccak256("TREASURER_ROLE");
        let payloads: Vec<Bytes> = vec![
            RoleTreasury::grantRoleCall { role, account: w.f.roles.treasurers[new].address() }.abi_encode().into(),
            RoleTreasury::revokeRoleCall { role, account: w.f.roles.treasurers[old].address() }.abi_encode().into(),
        ];
        let salt = self.next_salt();
        let delay = TIMELOCK_DELAY + self.rng.gen_range(0..4) * 60;
        let what =
            format!("{} replaces {} as treasurer", w.f.roles.treasurers[new].role, w.f.roles.treasurers[old].role);
        let call = Timelock::scheduleBatchCall {
            targets: vec![rt, rt],
            values: vec![U256::ZERO, U256::ZERO],
            payloads: payloads.clone(),
            predecessor: B256::ZERO,
            salt,
            delay: U256::from(delay),
        };
        let ready_at = self.chain.block().timestamp + delay;
        let note =
            format!("Timelock.scheduleBatch([RoleTreasury.grantRole, RoleTreasury.revokeRole], {delay}) - {what}");
        let ok = self.send_as("timelock-schedule-rotation", &w.f.roles.council, tl, U256::ZERO, &call, note)?;
        if ok {
            self.fam.rotating = true;
            self.fam.ops.push(TimelockOp {
                kind: OpKind::Rotate(new),
                targets: vec![rt, rt],
                values: vec![U256::ZERO, U256::ZERO],
                payloads,
                salt,
                ready_at,
                what,
            });
        }
        Ok(ok)
    }

    /// Executes the first scheduled operation that is ready. Execution is
    /// open: a grant is often executed by its grantee, a rotation by the
    /// council or the incoming treasurer.
    pub(super) fn execute_ready_op(&mut self) -> Result<bool, CorpusError> {
        let now = self.chain.block().timestamp;
        let Some(i) = self.fam.ops.iter().position(|op| op.ready_at <= now) else { return Ok(false) };
        let w = self.w;
        let op = self.fam.ops[i].clone();
        let (tag, executor): (&'static str, &Actor) = match op.kind {
            OpKind::Grant(user) => {
                let r: f64 = self.rng.gen();
                let who = if r < 0.5 {
                    self.user(user)
                } else if r < 0.8 {
                    &w.f.roles.council
                } else {
                    let other = self.other(user);
                    self.user(other)
                };
                ("timelock-execute-grant", who)
            }
            OpKind::Rotate(new) => {
                let who = if self.rng.gen_bool(0.6) { &w.f.roles.council } else { &w.f.roles.treasurers[new] };
                ("timelock-execute-rotation", who)
            }
        };
        let (data, note) = if op.targets.len() == 1 {
            let call = Timelock::executeCall {
                target: op.targets[0],
                value: op.values[0],
                payload: op.payloads[0].clone(),
                predecessor: B256::ZERO,
                salt: op.salt,
            };
            (call.abi_encode(), format!("Timelock.execute(…) - {}", op.what))
        } else {
            let call = Timelock::executeBatchCall {
                targets: op.targets.clone(),
                values: op.values.clone(),
                payloads: op.payloads.clone(),
                predecessor: B256::ZERO,
                salt: op.salt,
            };
            (call.abi_encode(), format!("Timelock.executeBatch(…) - {}", op.what))
        };
        self.tag = tag;
        let ok = self.emit(executor, w.f.a.timelock, U256::ZERO, data.into(), note)?.is_some();
        if ok {
            self.fam.ops.remove(i);
            if let OpKind::Rotate(new) = op.kind {
                self.fam.treasurer = new;
                self.fam.rotating = false;
            }
        }
        Ok(ok)
    }

    /// The grants treasury's owner pays a grantee, or itself.
    pub(super) fn grants_pay(&mut self) -> Result<bool, CorpusError> {
        let w = self.w;
        let g = w.f.a.grants;
        let owner = &w.f.roles.grants_owners[self.fam.grants_owner];
        let (to, name) = if self.rng.gen_bool(0.3) {
            (owner.address(), owner.role.clone())
        } else {
            let u = self.pick_user();
            (self.addr(u), self.user(u).role.clone())
        };
        if self.rng.gen_bool(0.7) {
            let amount = self.treasury_amount(g, w.a.usd, U256::MAX)?;
            if amount.is_zero() {
                return Ok(false);
            }
            let note = format!("GrantsTreasury.pay(USD, {name}, {})", amt(amount));
            self.send_as("grants-pay", owner, g, U256::ZERO, &Treasury::payCall { token: w.a.usd, to, amount }, note)
        } else {
            let amount = self.treasury_amount(g, Address::ZERO, U256::MAX)?;
            if amount.is_zero() {
                return Ok(false);
            }
            let note = format!("GrantsTreasury.payEth({name}, {})", amt(amount));
            self.send_as("grants-pay", owner, g, U256::ZERO, &Treasury::payEthCall { to, amount }, note)
        }
    }

    /// The grants treasury's owner hands it to the next owner.
    pub(super) fn rotate_grants_owner(&mut self) -> Result<bool, CorpusError> {
        let w = self.w;
        let owners = &w.f.roles.grants_owners;
        let (old, new) = (self.fam.grants_owner, (self.fam.grants_owner + 1) % owners.len());
        let call = Treasury::transferOwnershipCall { newOwner: owners[new].address() };
        let note = format!("GrantsTreasury.transferOwnership({})", owners[new].role);
        let ok = self.send_as("grants-owner-rotation", &owners[old], w.f.a.grants, U256::ZERO, &call, note)?;
        if ok {
            self.fam.grants_owner = new;
        }
        Ok(ok)
    }

    /// The fee collector takes the canonical bridge's deposit fees.
    pub(super) fn collect_bridge_fees(&mut self) -> Result<bool, CorpusError> {
        let w = self.w;
        let bridge = w.f.a.root_bridge;
        let token = *[w.a.usd, w.a.weth, Address::ZERO].choose(&mut self.rng).unwrap_or(&w.a.usd);
        let fees = self.chain.view(bridge, &RootBridge::feesAccruedCall(token))?;
        if fees.is_zero() {
            return Ok(false);
        }
        let collector = &w.f.roles.fee_collector;
        let (to, name) = if self.rng.gen_bool(0.7) {
            (collector.address(), collector.role.as_str())
        } else {
            (w.f.a.role_treasury, "RoleTreasury")
        };
        let note = format!("RootBridge.collectFees({}, {name}) - {} accrued", self.name(token), amt(fees));
        self.send_as("fee-collect", collector, bridge, U256::ZERO, &RootBridge::collectFeesCall { token, to }, note)
    }

    /// The sale's beneficiary withdraws its proceeds.
    pub(super) fn withdraw_sale_proceeds(&mut self) -> Result<bool, CorpusError> {
        let w = self.w;
        let sale = w.f.a.sale;
        let proceeds = self.chain.view(sale, &TokenSale::proceedsCall {})?;
        if proceeds.is_zero() {
            return Ok(false);
        }
        let b = &w.f.roles.sale_beneficiary;
        let note = format!("TokenSale.withdrawProceeds({}) - {} ETH", b.role, amt(proceeds));
        self.send_as("sale-proceeds", b, sale, U256::ZERO, &TokenSale::withdrawProceedsCall { to: b.address() }, note)
    }

    /// The registry's owner takes its premium.
    pub(super) fn collect_registry_fees(&mut self) -> Result<bool, CorpusError> {
        let w = self.w;
        let admin = &w.f.roles.registry_admin;
        let funds = self.chain.view(w.f.a.registry, &KeeperRegistryV1::ownerFundsCall {})?;
        if funds.is_zero() {
            return Ok(false);
        }
        let call = KeeperRegistryV1::withdrawOwnerFundsCall { to: admin.address() };
        let note = format!("KeeperRegistry.withdrawOwnerFunds(registry-admin) - {} USD", amt(U256::from(funds)));
        self.send_as("fee-collect", admin, w.f.a.registry, U256::ZERO, &call, note)
    }

    /// A keeper performs a due upkeep (not one it performed last).
    pub(super) fn keeper_turn(&mut self) -> Result<bool, CorpusError> {
        let now = self.chain.block().timestamp;
        let Some(id) = (0..2).find(|i| self.fam.drip_due[*i] <= now) else { return Ok(false) };
        if !self.rng.gen_bool(0.35) {
            return Ok(false);
        }
        let w = self.w;
        let registry = w.f.a.registry;
        let upkeep = self.chain.view(registry, &KeeperRegistryV1::getUpkeepCall { id: U256::from(id) })?;
        let keepers: Vec<&Actor> = w.f.roles.keepers.iter().filter(|k| k.address() != upkeep.lastKeeper).collect();
        let Some(keeper) = keepers.choose(&mut self.rng).copied() else { return Ok(false) };
        let call = KeeperRegistryV1::performUpkeepCall { id: U256::from(id), performData: Bytes::new() };
        let what = if id == 0 { "RewardDripper(ORB)" } else { "RewardDripper(WETH/ORB)" };
        let note = format!("KeeperRegistry.performUpkeep({id}, 0x) - {what} funds the next period");
        let ok = self.send_as("keeper-upkeep", keeper, registry, U256::ZERO, &call, note)?;
        if ok {
            self.fam.drip_due[id] = now + DRIP_INTERVAL;
        }
        Ok(ok)
    }

    /// A keeper's payee withdraws what the keeper earned.
    pub(super) fn keeper_withdraw(&mut self) -> Result<bool, CorpusError> {
        let w = self.w;
        let k = self.rng.gen_range(0..w.f.roles.keepers.len());
        let keeper = &w.f.roles.keepers[k];
        let info = self.chain.view(w.f.a.registry, &KeeperRegistryV1::keepersCall(keeper.address()))?;
        if info.balance.is_zero() {
            return Ok(false);
        }
        let payee = w.f.roles.keeper_payee(k);
        let call = KeeperRegistryV1::withdrawPaymentCall { from: keeper.address(), to: payee.address() };
        let note = format!(
            "KeeperRegistry.withdrawPayment({}, {}) - {} USD earned",
            keeper.role,
            payee.role,
            amt(U256::from(info.balance))
        );
        self.send_as("keeper-payment", payee, w.f.a.registry, U256::ZERO, &call, note)
    }

    /// The registry admin upgrades the registry to its next version.
    pub(super) fn upgrade_registry(&mut self) -> Result<bool, CorpusError> {
        let w = self.w;
        let call =
            KeeperRegistryV1::upgradeToAndCallCall { newImplementation: w.f.a.registry_next, data: Bytes::new() };
        let note = "KeeperRegistry.upgradeToAndCall(KeeperRegistryV3, 0x)".to_owned();
        let ok =
            self.send_as("registry-upgrade", &w.f.roles.registry_admin, w.f.a.registry, U256::ZERO, &call, note)?;
        if ok {
            self.fam.upgraded = true;
        }
        Ok(ok)
    }
}
