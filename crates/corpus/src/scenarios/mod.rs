//! The 13 attack and 13 benign scenarios of SCENARIOS.md, transaction by
//! transaction, each with a check of the effect the executed run measured.

mod attacks;
mod benign;
pub(crate) mod steps;

use std::collections::BTreeMap;

use alloy_primitives::{Address, Bytes, TxKind, U256};
use alloy_sol_types::{SolCall, SolConstructor};
use vigil_fixture::Label;

use crate::{
    chain::{Chain, Sent},
    contracts::{FlashLender, PairFactory, SwapRouter, Token, WETH},
    keys, Actor, CorpusError,
};

/// Whether a scenario is an attack or a hard benign look-alike.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// Its `attack` transaction must be stopped.
    Attack,
    /// Everything in it must be admitted.
    Benign,
}

impl Kind {
    /// The directory its fixture is written to.
    pub fn dir(self) -> &'static str {
        match self {
            Self::Attack => "attack",
            Self::Benign => "benign",
        }
    }
}

/// One scenario of SCENARIOS.md.
#[derive(Debug, Clone, Copy)]
pub struct Scenario {
    /// Its id in SCENARIOS.md (`A1`…`A13`, `B1`…`B13`).
    pub id: &'static str,
    /// The fixture's name (and file name, without `.json`).
    pub name: &'static str,
    /// Attack or benign.
    pub kind: Kind,
    /// The fixture's description.
    pub description: &'static str,
    build: fn(&mut Sc) -> Result<(), CorpusError>,
}

/// A generated scenario fixture.
#[derive(Debug, Clone)]
pub struct Generated {
    /// Which scenario.
    pub scenario: Scenario,
    /// The fixture file's text.
    pub json: String,
}

impl Scenario {
    /// Builds the fixture, checking every step and the scenario's effect.
    pub fn generate(&self) -> Result<Generated, CorpusError> {
        let mut sc = Sc::new(self.name)?;
        (self.build)(&mut sc)?;
        let json = sc.chain.to_json(self.description)?;
        Ok(Generated { scenario: *self, json })
    }
}

/// The 13 attack scenarios built one after another on one chain: the world
/// the local testnet's demo plays (`testnet/demo/world.json`). Every
/// scenario deploys its own contracts and has its own accounts, so a
/// quarantined attack leaves the next scenario's transactions valid.
pub fn demo_world() -> Result<String, CorpusError> {
    let mut sc = Sc::new_world("demo-world")?;
    for s in attacks::ALL {
        sc.begin(s.name);
        (s.build)(&mut sc)?;
    }
    sc.chain.to_json(
        "The 13 attack scenarios of SCENARIOS.md built one after another on one chain, each with its own \
         contracts and accounts: what `vigil testnet up --demo` plays.",
    )
}

/// All 26 scenarios, attacks first, in SCENARIOS.md order.
pub fn all() -> Vec<Scenario> {
    attacks::ALL.iter().chain(benign::ALL.iter()).copied().collect()
}

/// `n` × 10^18.
pub(crate) fn eth(n: u64) -> U256 {
    U256::from(n) * U256::from(1_000_000_000_000_000_000u64)
}

/// `num / den` × 10^18 (`frac(1, 1000)` is SCENARIOS.md's `0.001e18`).
pub(crate) fn frac(num: u64, den: u64) -> U256 {
    eth(num) / U256::from(den)
}

/// 2^256 − 1.
pub(crate) const MAX: U256 = U256::MAX;

/// `0x…dEaD`, where seed shares are locked.
pub(crate) const DEAD: Address = alloy_primitives::address!("0x000000000000000000000000000000000000dEaD");

/// The contracts every scenario starts with (SCENARIOS.md's first five
/// deployer transactions).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Base {
    pub(crate) weth: Address,
    pub(crate) usd: Address,
    pub(crate) factory: Address,
    pub(crate) router: Address,
    pub(crate) lender: Address,
}

/// A scenario being built: its chain and its accounts.
#[derive(Debug)]
pub(crate) struct Sc {
    pub(crate) chain: Chain,
    /// The protocol deployer.
    pub(crate) d: Actor,
    /// Names of accounts and contracts, for notes.
    names: BTreeMap<Address, String>,
    /// In a shared world (several scenarios on one chain), the scenario
    /// being built: accounts are named after it, and `genesis` funds them
    /// by transfers from the deployer instead of starting a new chain.
    world_scenario: Option<String>,
}

impl Sc {
    pub(crate) fn new(name: &str) -> Result<Self, CorpusError> {
        let d = keys::deployer()?;
        let names = BTreeMap::from([(d.address(), d.role.clone())]);
        Ok(Self { chain: Chain::new(name, [])?, d, names, world_scenario: None })
    }

    /// A shared world: one chain on which scenarios are built one after
    /// another (`begin` each), the deployer funded for all of them.
    pub(crate) fn new_world(name: &str) -> Result<Self, CorpusError> {
        let d = keys::deployer()?;
        let names = BTreeMap::from([(d.address(), d.role.clone())]);
        let chain = Chain::new(name, [(d.address(), eth(100_000_000))])?;
        Ok(Self { chain, d, names, world_scenario: Some(String::new()) })
    }

    /// Starts building `scenario` in a shared world.
    pub(crate) fn begin(&mut self, scenario: &str) {
        self.world_scenario = Some(scenario.to_owned());
    }

    /// Accounts of a shared world: funded by the deployer, keys named after
    /// the world and the scenario so no account is shared between two.
    fn fund_world_accounts(&mut self, scenario: &str, accounts: &[(String, U256)]) -> Result<Vec<Actor>, CorpusError> {
        let scope = format!("{}/{scenario}", self.chain.name());
        let d = self.d.clone();
        let mut out = Vec::with_capacity(accounts.len());
        for (role, amount) in accounts {
            let actor = keys::actor(&scope, role)?;
            self.names.insert(actor.address(), format!("{scenario}/{}", actor.role));
            self.chain.send(
                Label::Setup,
                &d,
                TxKind::Call(actor.address()),
                *amount,
                Vec::new(),
                format!("deployer: fund {scenario}/{role}"),
            )?;
            out.push(actor);
        }
        Ok(out)
    }

    /// Declares the genesis: the deployer's ETH and each account's. Must come
    /// before the first transaction.
    pub(crate) fn genesis<const N: usize>(
        &mut self,
        deployer_eth: u64,
        accounts: [(&str, u64); N],
    ) -> Result<[Actor; N], CorpusError> {
        if let Some(scenario) = self.world_scenario.clone() {
            let list: Vec<(String, U256)> = accounts.iter().map(|(r, a)| (r.to_string(), eth(*a))).collect();
            let out = self.fund_world_accounts(&scenario, &list)?;
            return out.try_into().map_err(|_| CorpusError::InvalidArgument("account count".into()));
        }
        let name = self.chain.name().to_owned();
        let mut out = Vec::with_capacity(N);
        for (role, _) in &accounts {
            out.push(keys::actor(&name, role)?);
        }
        let mut alloc = vec![(self.d.address(), eth(deployer_eth))];
        for (actor, (_, amount)) in out.iter().zip(accounts.iter()) {
            alloc.push((actor.address(), eth(*amount)));
            self.names.insert(actor.address(), actor.role.clone());
        }
        self.chain = Chain::new(name, alloc)?;
        out.try_into().map_err(|_| CorpusError::InvalidArgument("account count".into()))
    }

    /// Declares a genesis of any number of accounts, each with its balance in
    /// wei.
    pub(crate) fn genesis_list(
        &mut self,
        deployer_eth: u64,
        accounts: &[(String, U256)],
    ) -> Result<Vec<Actor>, CorpusError> {
        if let Some(scenario) = self.world_scenario.clone() {
            return self.fund_world_accounts(&scenario, accounts);
        }
        let name = self.chain.name().to_owned();
        let mut alloc = vec![(self.d.address(), eth(deployer_eth))];
        let mut out = Vec::with_capacity(accounts.len());
        for (role, amount) in accounts {
            let actor = keys::actor(&name, role)?;
            alloc.push((actor.address(), *amount));
            self.names.insert(actor.address(), actor.role.clone());
            out.push(actor);
        }
        self.chain = Chain::new(name, alloc)?;
        Ok(out)
    }

    fn tx<C: SolCall>(
        &mut self,
        label: Label,
        from: &Actor,
        to: Address,
        value: U256,
        call: &C,
        note: &str,
    ) -> Result<Sent, CorpusError> {
        let note = format!("{}: {note}", from.role);
        self.chain.send(label, from, TxKind::Call(to), value, call.abi_encode(), note)
    }

    pub(crate) fn setup<C: SolCall>(
        &mut self,
        from: &Actor,
        to: Address,
        call: C,
        note: &str,
    ) -> Result<Sent, CorpusError> {
        self.tx(Label::Setup, from, to, U256::ZERO, &call, note)
    }

    pub(crate) fn setup_v<C: SolCall>(
        &mut self,
        from: &Actor,
        to: Address,
        value: U256,
        call: C,
        note: &str,
    ) -> Result<Sent, CorpusError> {
        self.tx(Label::Setup, from, to, value, &call, note)
    }

    pub(crate) fn benign<C: SolCall>(
        &mut self,
        from: &Actor,
        to: Address,
        call: C,
        note: &str,
    ) -> Result<Sent, CorpusError> {
        self.tx(Label::Benign, from, to, U256::ZERO, &call, note)
    }

    pub(crate) fn benign_v<C: SolCall>(
        &mut self,
        from: &Actor,
        to: Address,
        value: U256,
        call: C,
        note: &str,
    ) -> Result<Sent, CorpusError> {
        self.tx(Label::Benign, from, to, value, &call, note)
    }

    pub(crate) fn attack<C: SolCall>(
        &mut self,
        from: &Actor,
        to: Address,
        call: C,
        note: &str,
    ) -> Result<Sent, CorpusError> {
        self.tx(Label::Attack, from, to, U256::ZERO, &call, note)
    }

    pub(crate) fn attack_v<C: SolCall>(
        &mut self,
        from: &Actor,
        to: Address,
        value: U256,
        call: C,
        note: &str,
    ) -> Result<Sent, CorpusError> {
        self.tx(Label::Attack, from, to, value, &call, note)
    }

    /// A plain ETH transfer (empty calldata).
    pub(crate) fn send_eth(
        &mut self,
        label: Label,
        from: &Actor,
        to: Address,
        value: U256,
        note: &str,
    ) -> Result<Sent, CorpusError> {
        let note = format!("{}: {note}", from.role);
        self.chain.send(label, from, TxKind::Call(to), value, Bytes::new(), note)
    }

    /// Deploys `code ++ args` and names the contract `name` in later notes;
    /// returns its address, which is CREATE(sender, nonce).
    pub(crate) fn deploy(
        &mut self,
        label: Label,
        from: &Actor,
        name: &str,
        code: &Bytes,
        args: Vec<u8>,
        note: &str,
    ) -> Result<Address, CorpusError> {
        let expected = from.address().create(self.chain.state().nonce(from.address()));
        let mut data = code.to_vec();
        data.extend_from_slice(&args);
        let note = format!("{}: deploy {note}", from.role);
        let sent = self.chain.send(label, from, TxKind::Create, U256::ZERO, data, note)?;
        match sent.created {
            Some(a) if a == expected => {
                self.names.insert(a, name.to_owned());
                Ok(a)
            }
            other => Err(self.fail(format!("deployment at {other:?}, expected CREATE address {expected}"))),
        }
    }

    /// SCENARIOS.md's common start: WETH, USD, PairFactory, SwapRouter,
    /// FlashLender(9), all by the deployer.
    pub(crate) fn base(&mut self) -> Result<Base, CorpusError> {
        let d = self.d.clone();
        let weth = self.deploy(Label::Setup, &d, "WETH", &WETH::BYTECODE, Vec::new(), "WETH()")?;
        let usd = self.token(&d, "Dollar", "USD")?;
        let factory =
            self.deploy(Label::Setup, &d, "PairFactory", &PairFactory::BYTECODE, Vec::new(), "PairFactory()")?;
        let router = self.deploy(
            Label::Setup,
            &d,
            "SwapRouter",
            &SwapRouter::BYTECODE,
            SwapRouter::constructorCall { factory_: factory, weth_: weth }.abi_encode(),
            "SwapRouter(PairFactory, WETH)",
        )?;
        let lender = self.deploy(
            Label::Setup,
            &d,
            "FlashLender",
            &FlashLender::BYTECODE,
            FlashLender::constructorCall { feeBps_: U256::from(9) }.abi_encode(),
            "FlashLender(9)",
        )?;
        Ok(Base { weth, usd, factory, router, lender })
    }

    /// Deploys `Token(name, symbol, 18)` from `from`.
    pub(crate) fn token(&mut self, from: &Actor, name: &str, symbol: &str) -> Result<Address, CorpusError> {
        let args = Token::constructorCall { name_: name.into(), symbol_: symbol.into(), decimals_: 18 }.abi_encode();
        self.deploy(Label::Setup, from, symbol, &Token::BYTECODE, args, &format!("Token(\"{name}\", \"{symbol}\", 18)"))
    }

    /// `PairFactory(factory).getPair(a, b)`, which must exist; named `name`
    /// in later notes.
    pub(crate) fn pair(
        &mut self,
        factory: Address,
        a: Address,
        b: Address,
        name: &str,
    ) -> Result<Address, CorpusError> {
        let pair = self.chain.view(factory, &PairFactory::getPairCall { _0: a, _1: b })?;
        if pair == Address::ZERO {
            return Err(self.fail(format!("no pair for {a} / {b}")));
        }
        self.names.insert(pair, name.to_owned());
        Ok(pair)
    }

    /// Names an address in later notes.
    pub(crate) fn name(&mut self, address: Address, name: &str) {
        self.names.insert(address, name.to_owned());
    }

    /// The name of an address in notes.
    pub(crate) fn nm(&self, address: Address) -> String {
        self.names.get(&address).cloned().unwrap_or_else(|| format!("{address:#x}"))
    }

    /// `token.approve(spender, MAX)`.
    pub(crate) fn approve(
        &mut self,
        label: Label,
        from: &Actor,
        token: Address,
        spender: Address,
    ) -> Result<Sent, CorpusError> {
        let note = format!("{}.approve({}, MAX)", self.nm(token), self.nm(spender));
        self.tx(label, from, token, U256::ZERO, &Token::approveCall { spender, amount: MAX }, &note)
    }

    /// `token.transfer(to, amount)`.
    pub(crate) fn transfer(
        &mut self,
        label: Label,
        from: &Actor,
        token: Address,
        to: Address,
        amount: U256,
    ) -> Result<Sent, CorpusError> {
        let note = format!("{}.transfer({}, {})", self.nm(token), self.nm(to), amt(amount));
        self.tx(label, from, token, U256::ZERO, &Token::transferCall { to, amount }, &note)
    }

    /// `token.mint(to, amount)` by the deployer.
    pub(crate) fn mint(&mut self, token: Address, to: Address, amount: U256) -> Result<Sent, CorpusError> {
        let d = self.d.clone();
        let note = format!("{}.mint({}, {})", self.nm(token), self.nm(to), amt(amount));
        self.tx(Label::Setup, &d, token, U256::ZERO, &Token::mintCall { to, amount }, &note)
    }

    /// `WETH.deposit() {value: amount}`.
    pub(crate) fn wrap(
        &mut self,
        label: Label,
        from: &Actor,
        weth: Address,
        amount: U256,
    ) -> Result<Sent, CorpusError> {
        let note = format!("WETH.deposit() {{value: {}}}", amt(amount));
        self.tx(label, from, weth, amount, &WETH::depositCall {}, &note)
    }

    /// ERC-20 balance.
    pub(crate) fn bal(&self, token: Address, who: Address) -> Result<U256, CorpusError> {
        self.chain.view(token, &Token::balanceOfCall(who))
    }

    /// ETH balance.
    pub(crate) fn eth_bal(&self, who: Address) -> U256 {
        self.chain.balance(who)
    }

    /// A check-failure error for this scenario.
    pub(crate) fn fail(&self, what: String) -> CorpusError {
        CorpusError::Check { fixture: self.chain.name().to_owned(), what }
    }

    /// Fails with `what` unless `ok`.
    pub(crate) fn check(&self, ok: bool, what: impl FnOnce() -> String) -> Result<(), CorpusError> {
        if ok {
            Ok(())
        } else {
            Err(self.fail(what()))
        }
    }
}

/// An amount as SCENARIOS.md writes it: `2000e18`, `0.001e18`, `MAX`, or a
/// plain integer below 10^9.
pub(crate) fn amt(a: U256) -> String {
    let unit = U256::from(1_000_000_000_000_000_000u64);
    if a == MAX {
        return "MAX".into();
    }
    if a < U256::from(1_000_000_000u64) {
        return a.to_string();
    }
    let whole = a / unit;
    let rest = a % unit;
    if rest.is_zero() {
        format!("{whole}e18")
    } else {
        let digits = format!("{rest:0>18}");
        format!("{whole}.{}e18", digits.trim_end_matches('0'))
    }
}

/// `a` as a whole number of 10^-4 units, for messages.
pub(crate) fn fmt_e18(a: U256) -> String {
    let scaled = a / U256::from(100_000_000_000_000u64);
    let whole = scaled / U256::from(10_000u64);
    let rest = scaled % U256::from(10_000u64);
    format!("{whole}.{rest:0>4}")
}
