// Vigil operator dashboard (decision 0016). One page, routed in the
// browser; every figure comes from the node's JSON-RPC over WebSocket
// (docs/rpc.md), the gate's status through the dashboard's /gate, the
// charts from its /metrics. No framework, no build step, nothing fetched
// from elsewhere. Text from the network only ever becomes DOM text nodes.

const STATES = [
  ['', 'All review states'],
  ['open', 'Not reviewed'],
  ['confirmed_malicious', 'Confirmed malicious'],
  ['false_positive', 'False positive'],
];
const TOKEN_KEY = 'vigil.operatorToken';
// Functions of the standard interfaces (ERC-20, ERC-721, ERC-4626, WETH,
// Uniswap v2 and v3, Aave v3, Balancer v2, Safe, the Merkle distributor,
// Chainlink), by selector; the call tree names them, other selectors are
// shown raw. Checked against keccak256 by the dashboard's unit test.
const KNOWN_FUNCTIONS = {
  '0xa9059cbb': 'transfer(address,uint256)',
  '0x095ea7b3': 'approve(address,uint256)',
  '0x23b872dd': 'transferFrom(address,address,uint256)',
  '0x70a08231': 'balanceOf(address)',
  '0xdd62ed3e': 'allowance(address,address)',
  '0x18160ddd': 'totalSupply()',
  '0x313ce567': 'decimals()',
  '0xd0e30db0': 'deposit()',
  '0x2e1a7d4d': 'withdraw(uint256)',
  '0x022c0d9f': 'swap(uint256,uint256,address,bytes)',
  '0x0902f1ac': 'getReserves()',
  '0xfff6cae9': 'sync()',
  '0xbc25cf77': 'skim(address)',
  '0x6a627842': 'mint(address)',
  '0x89afcb44': 'burn(address)',
  '0x7ff36ab5': 'swapExactETHForTokens(uint256,address[],address,uint256)',
  '0x38ed1739': 'swapExactTokensForTokens(uint256,uint256,address[],address,uint256)',
  '0x18cbafe5': 'swapExactTokensForETH(uint256,uint256,address[],address,uint256)',
  '0xe8e33700': 'addLiquidity(address,address,uint256,uint256,uint256,uint256,address,uint256)',
  '0xbaa2abde': 'removeLiquidity(address,address,uint256,uint256,uint256,address,uint256)',
  '0xab9c4b5d': 'flashLoan(address,address[],uint256[],uint256[],address,bytes,uint16)',
  '0x42b0b77c': 'flashLoanSimple(address,address,uint256,bytes,uint16)',
  '0x920f5c84': 'executeOperation(address[],uint256[],uint256[],address,bytes)',
  '0x1b11d0ff': 'executeOperation(address,uint256,uint256,address,bytes)',
  '0x00a718a9': 'liquidationCall(address,address,address,uint256,bool)',
  '0x617ba037': 'supply(address,uint256,address,uint16)',
  '0xa415bcad': 'borrow(address,uint256,uint256,uint16,address)',
  '0x573ade81': 'repay(address,uint256,uint256,address)',
  '0x5c38449e': 'flashLoan(address,address[],uint256[],bytes)',
  '0xf04f2707': 'receiveFlashLoan(address[],uint256[],uint256[],bytes)',
  '0x10d1e85c': 'uniswapV2Call(address,uint256,uint256,bytes)',
  '0xfa461e33': 'uniswapV3SwapCallback(int256,int256,bytes)',
  '0x6a761202': 'execTransaction(address,uint256,bytes,uint8,uint256,uint256,uint256,address,address,bytes)',
  '0x2e7ba6ef': 'claim(uint256,address,uint256,bytes32[])',
  '0xac9650d8': 'multicall(bytes[])',
  '0x3593564c': 'execute(bytes,bytes[],uint256)',
  '0xd505accf': 'permit(address,address,uint256,uint256,uint8,bytes32,bytes32)',
  '0x42842e0e': 'safeTransferFrom(address,address,uint256)',
  '0x6352211e': 'ownerOf(uint256)',
  '0xba087652': 'redeem(uint256,address,address)',
  '0x6e553f65': 'deposit(uint256,address)',
  '0xb460af94': 'withdraw(uint256,address,address)',
  '0xfeaf968c': 'latestRoundData()',
  '0x414bf389': 'exactInputSingle((address,address,uint24,address,uint256,uint256,uint256,uint160))',
};
const PAGE = 50;

// ---------- DOM helpers ----------

function h(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith('on')) node.addEventListener(k.slice(2), v);
    else if (k === 'class') node.className = v;
    else node.setAttribute(k, v === true ? '' : String(v));
  }
  for (const c of children.flat()) {
    if (c === undefined || c === null || c === false) continue;
    node.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return node;
}

const badge = (text, tone) => h('span', { class: `badge ${tone}` }, text);
const txLink = (hash) => h('a', { href: `/tx/${hash}`, class: 'hash', 'data-link': '' }, hash);
const time = (ms) => (ms ? new Date(ms).toLocaleString() : '—');
const notice = (text, kind) => h('div', { class: `notice ${kind}`, role: kind === 'error' ? 'alert' : 'status' }, text);

function main() {
  return document.getElementById('main');
}

function render(title, ...content) {
  const m = main();
  m.replaceChildren(h('h1', {}, title), ...content.flat().filter((c) => c !== null && c !== undefined));
  document.title = `${title} · Vigil`;
}

// ---------- JSON-RPC over WebSocket ----------

class Rpc {
  constructor(url, onState) {
    this.url = url;
    this.onState = onState;
    this.nextId = 1;
    this.pending = new Map();
    this.subs = new Map(); // subscription id -> callback
    this.wanted = []; // {kind, callback, id}
    this.backoff = 250;
    this.ready = this.connect();
  }

  connect() {
    return new Promise((resolve) => {
      const ws = new WebSocket(this.url);
      this.ws = ws;
      ws.onopen = async () => {
        this.backoff = 250;
        this.onState('up');
        resolve();
        this.subs.clear();
        for (const w of this.wanted) await this.startSubscription(w);
      };
      ws.onmessage = (e) => this.receive(JSON.parse(e.data));
      ws.onclose = () => {
        this.onState('down');
        for (const [, p] of this.pending) p.reject(new Error('connection to the node lost'));
        this.pending.clear();
        setTimeout(() => { this.ready = this.connect(); }, this.backoff);
        this.backoff = Math.min(this.backoff * 2, 5000);
      };
    });
  }

  receive(msg) {
    if (msg.method === 'vigil_subscription') {
      const cb = this.subs.get(msg.params.subscription);
      if (cb) cb(msg.params.result);
      return;
    }
    const p = this.pending.get(msg.id);
    if (!p) return;
    this.pending.delete(msg.id);
    if (msg.error) p.reject(Object.assign(new Error(msg.error.message), { code: msg.error.code }));
    else p.resolve(msg.result);
  }

  async call(method, params = []) {
    await this.ready;
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.ws.send(JSON.stringify({ jsonrpc: '2.0', id, method, params }));
    });
  }

  async startSubscription(w) {
    try {
      w.id = await this.call('vigil_subscribe', [w.kind]);
      this.subs.set(w.id, w.callback);
    } catch (e) {
      console.error('subscription', w.kind, e);
    }
  }

  // Subscribes until the returned function is called (kept across reconnects).
  async subscribe(kind, callback) {
    const w = { kind, callback, id: null };
    this.wanted.push(w);
    await this.startSubscription(w);
    return () => {
      this.wanted = this.wanted.filter((x) => x !== w);
      if (w.id) {
        this.subs.delete(w.id);
        this.call('vigil_unsubscribe', [w.id]).catch(() => {});
      }
    };
  }
}

// ---------- shared state ----------

const app = { rpc: null, config: null, committee: null, leave: [] };

function onLeave(f) {
  app.leave.push(f);
}

async function committee() {
  if (!app.committee) app.committee = await app.rpc.call('vigil_committee');
  return app.committee;
}

const stakeOf = (c, i) => BigInt(c.members[i]?.stake ?? '0');
const totalStake = (c) => c.members.reduce((s, m) => s + BigInt(m.stake), 0n);
const percent = (part, whole) => (whole === 0n ? '0' : (Number((part * 10000n) / whole) / 100).toFixed(2).replace(/\.?0+$/, ''));
const eth = (wei) => {
  const s = BigInt(wei);
  const whole = s / 10n ** 18n;
  const frac = (s % 10n ** 18n).toString().padStart(18, '0').slice(0, 4).replace(/0+$/, '');
  return frac ? `${whole}.${frac} ETH` : `${whole} ETH`;
};

// Signer indexes set in a certificate's bitmap (bit i of byte i/8, low bit first).
function bitmapSigners(hex) {
  const bytes = (hex || '0x').slice(2).match(/../g) || [];
  const out = [];
  bytes.forEach((b, byte) => {
    const v = parseInt(b, 16);
    for (let bit = 0; bit < 8; bit++) if (v & (1 << bit)) out.push(byte * 8 + bit);
  });
  return out;
}

// Each member's stated verdict on `hash`: its per-transaction vote, or its
// signature on the batch certificate (whose leaf gives the verdict).
function memberVerdicts(verdictAnswer) {
  const byMember = new Map();
  for (const v of verdictAnswer?.votes ?? []) byMember.set(v.signer, { kind: v.kind, how: 'vote' });
  const cert = verdictAnswer?.certificate;
  if (cert) {
    const signers = cert.certificate ? cert.certificate.signers : cert.signers;
    for (const i of bitmapSigners(signers)) {
      if (!byMember.has(i)) byMember.set(i, { kind: cert.kind, how: cert.certificate ? 'batch certificate' : 'certificate' });
    }
  }
  return byMember;
}

function tally(c, byMember) {
  let malicious = 0n;
  let clean = 0n;
  for (const [i, v] of byMember) {
    if (v.kind === 'malicious') malicious += stakeOf(c, i);
    else if (v.kind === 'clean') clean += stakeOf(c, i);
  }
  const total = totalStake(c);
  return `malicious ${percent(malicious, total)} % · clean ${percent(clean, total)} % of stake`;
}

async function disputeStatus(hash) {
  if (!app.config.court) return 'no court configured';
  try {
    const d = await fetch(`/court/${hash}`).then((r) => r.json());
    if (d.error) return d.error;
    return d.state === 'none' ? 'no dispute' : `dispute #${d.id}: ${d.state} (ruling by block ${d.deadline})`;
  } catch (e) {
    return 'court unreachable';
  }
}

async function gateStatus(hash) {
  if (!app.config.gate) return 'no gate configured';
  try {
    const r = await fetch('/gate', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ method: 'vigil_getTxStatus', params: [hash] }) });
    const body = await r.json();
    if (body.result) return body.result.status;
    if (body.error?.code === -32011) return 'not at the gate';
    return body.error?.message ?? 'unknown';
  } catch (e) {
    return `gate unreachable`;
  }
}

const topFinding = (verdict) => {
  const f = verdict?.findings?.[0];
  return f ? `${f.rule} (${f.severity})` : '—';
};

const severityTone = (s) => (s === 'critical' || s === 'high' ? 'bad' : s === 'medium' ? 'warn' : 'muted');

const reviewBadge = (state) =>
  state === 'confirmed_malicious' ? badge('confirmed malicious', 'bad') : state === 'false_positive' ? badge('false positive', 'good') : badge('not reviewed', 'muted');

// ---------- quarantine queue ----------

async function queueRow(c, record, fresh) {
  const hash = record.tx_hash;
  const cells = {
    time: h('td', { 'data-label': 'Since' }, time(record.since_ms)),
    hash: h('td', { 'data-label': 'Transaction' }, txLink(hash)),
    sender: h('td', { 'data-label': 'Sender', class: 'mono' }, '…'),
    target: h('td', { 'data-label': 'Target', class: 'mono' }, '…'),
    finding: h('td', { 'data-label': 'Top finding' }, '…'),
    score: h('td', { 'data-label': 'Score' }, '…'),
    tally: h('td', { 'data-label': 'Votes' }, '…'),
    gate: h('td', { 'data-label': 'Gate' }, '…'),
    dispute: h('td', { 'data-label': 'Dispute' }, '…'),
    review: h('td', { 'data-label': 'Review' }, reviewBadge(record.review?.state)),
  };
  const row = h('tr', { class: fresh ? 'fresh' : '', 'data-tx': hash }, Object.values(cells));
  const [status, verdict, gate, dispute] = await Promise.all([
    app.rpc.call('vigil_getTxStatus', [hash]).catch(() => null),
    app.rpc.call('vigil_getVerdict', [hash]).catch(() => null),
    gateStatus(hash),
    disputeStatus(hash),
  ]);
  cells.sender.replaceChildren(status?.sender ?? '—');
  cells.target.replaceChildren(verdict?.verdict?.summary?.to ?? 'contract creation');
  cells.finding.replaceChildren(topFinding(verdict?.verdict));
  cells.score.replaceChildren(String(verdict?.verdict?.score ?? '—'));
  cells.tally.replaceChildren(verdict ? tally(c, memberVerdicts(verdict)) : '—');
  cells.gate.replaceChildren(gate);
  cells.dispute.replaceChildren(dispute);
  return row;
}

async function queuePage() {
  const params = new URLSearchParams(location.search);
  const state = params.get('state') ?? '';
  const select = h('select', { id: 'state', onchange: (e) => go(`/?state=${e.target.value}`) }, STATES.map(([v, label]) => h('option', { value: v, selected: v === state }, label)));
  const tbody = h('tbody', { id: 'queue' });
  const more = h('button', { class: 'secondary', hidden: true }, 'Load more');
  const table = h('table', {}, h('thead', {}, h('tr', {}, ['Since', 'Transaction', 'Sender', 'Target', 'Top finding', 'Score', 'Votes by stake', 'Gate', 'Dispute', 'Review'].map((t) => h('th', { scope: 'col' }, t)))), tbody);
  const empty = h('p', { class: 'empty' }, 'Nothing in quarantine.');
  render('Quarantine', h('div', { class: 'toolbar' }, h('label', {}, 'Review state', select), h('span', { class: 'muted' }, 'New quarantines appear here as they happen.')), table, empty, more);
  const c = await committee();
  let cursor = null;
  const load = async () => {
    const page = await app.rpc.call('vigil_quarantineList', [{ state: state || undefined, cursor, limit: PAGE }]);
    for (const r of page.items) tbody.append(await queueRow(c, r, false));
    cursor = page.next_cursor;
    more.hidden = !cursor;
    empty.hidden = tbody.children.length > 0;
  };
  more.addEventListener('click', load);
  const stop = await app.rpc.subscribe('quarantine', async (record) => {
    if (state && record.review?.state !== state) return;
    const existing = tbody.querySelector(`tr[data-tx="${record.tx_hash}"]`);
    const row = await queueRow(c, record, true);
    if (existing) existing.replaceWith(row);
    else tbody.prepend(row);
    empty.hidden = true;
  });
  onLeave(stop);
  await load();
}

// ---------- transaction view ----------

function facts(pairs) {
  return h('dl', { class: 'facts' }, pairs.filter(Boolean).flatMap(([k, v]) => [h('dt', {}, k), h('dd', {}, v)]));
}

function reviewForm(hash, record, onDone) {
  const message = h('div', { 'aria-live': 'polite' });
  const state = h('select', { id: 'review-state', name: 'state' }, STATES.slice(1).map(([v, label]) => h('option', { value: v, selected: v === record?.review?.state }, label)));
  const note = h('textarea', { id: 'review-note', name: 'note', rows: 2, maxlength: 2000 }, record?.review?.note ?? '');
  const reviewer = h('input', { id: 'reviewer', name: 'reviewer', value: record?.review?.reviewer ?? '', maxlength: 100 });
  const stored = sessionStorage.getItem(TOKEN_KEY);
  const token = h('input', { id: 'token', name: 'token', type: 'password', autocomplete: 'off', hidden: !!stored });
  const tokenLabel = h('label', { hidden: !!stored }, 'Operator token (kept for this tab only)', token);
  const forget = h('button', { type: 'button', class: 'secondary', hidden: !stored, onclick: () => { sessionStorage.removeItem(TOKEN_KEY); tokenLabel.hidden = false; token.hidden = false; forget.hidden = true; } }, 'Forget the token');
  // Runs an operator method with the token; keeps the token for the tab
  // once the node accepts it, forgets it when the node says it is wrong.
  const withToken = async (call) => {
    const secret = sessionStorage.getItem(TOKEN_KEY) || token.value;
    if (!secret) {
      message.replaceChildren(notice('Enter the operator token first.', 'error'));
      return;
    }
    try {
      const text = await call(secret);
      sessionStorage.setItem(TOKEN_KEY, secret);
      token.value = '';
      tokenLabel.hidden = true;
      forget.hidden = false;
      message.replaceChildren(notice(text, 'ok'));
    } catch (err) {
      if (err.code === -32013 && /token/.test(err.message)) {
        sessionStorage.removeItem(TOKEN_KEY);
        tokenLabel.hidden = false;
        token.hidden = false;
        forget.hidden = true;
      }
      message.replaceChildren(notice(`Refused: ${err.message}`, 'error'));
    }
  };
  const fields = (secret) => ({ tx_hash: hash, note: note.value || undefined, reviewer: reviewer.value || undefined, token: secret });
  const release = h('button', {
    type: 'button',
    id: 'release',
    class: 'secondary',
    onclick: () => withToken(async (secret) => {
      const r = await app.rpc.call('vigil_quarantineRelease', [fields(secret)]);
      onDone(r);
      return `Released: the gate now holds it as ${r.gate.status} and forwards it (signed by operator ${r.operator}).`;
    }),
  }, 'Release through the gate');
  const form = h(
    'form',
    {
      id: 'review',
      onsubmit: (e) => {
        e.preventDefault();
        withToken(async (secret) => {
          const r = await app.rpc.call('vigil_quarantineReview', [{ ...fields(secret), state: state.value }]);
          onDone(r);
          return `Saved: ${r.review.state.replace('_', ' ')}.`;
        });
      },
    },
    h('div', { class: 'toolbar' }, h('label', {}, 'Review', state), h('label', {}, 'Reviewer', reviewer), tokenLabel, forget),
    h('label', {}, 'Note', note),
    h('p', { class: 'toolbar' }, h('button', { type: 'submit' }, 'Save review'), release, h('span', { class: 'muted' }, 'A release is signed with the node’s operator key; the gate admits the transaction only if it accepts that key.')),
    message,
  );
  return form;
}

async function txPage(hash) {
  render(`Transaction`, h('p', { class: 'hash' }, hash), h('p', { class: 'muted' }, 'Loading…'));
  let status;
  try {
    status = await app.rpc.call('vigil_getTxStatus', [hash]);
  } catch (e) {
    render('Transaction', h('p', { class: 'hash' }, hash), notice(e.code === -32011 ? 'This node has not seen this transaction.' : e.message, 'error'));
    return;
  }
  const [verdict, c, gate, dispute] = await Promise.all([
    app.rpc.call('vigil_getVerdict', [hash]).catch(() => null),
    committee(),
    gateStatus(hash),
    disputeStatus(hash),
  ]);
  const record = verdict?.quarantine;
  const v = verdict?.verdict;
  const outcome = verdict?.outcome ?? status.outcome;
  const decision =
    status.status === 'quarantined' ? badge('quarantined', 'bad') : status.status === 'certified' ? badge('certified clean', 'good') : badge(status.status, 'warn');
  const why = outcome?.reason ?? (status.status === 'certified' ? 'members holding more than the threshold of stake signed it clean' : 'no decision yet');
  const summary = v?.summary;
  const sections = [
    h('p', { class: 'hash' }, hash),
    h('div', { class: 'card' }, h('p', { class: 'decision' }, decision, ' ', why), facts([
      ['Sender', status.sender],
      ['Nonce', status.nonce],
      ['Received', time(status.received_at_ms)],
      ['This node’s verdict', v ? `${v.kind}, score ${v.score}${v.alert ? ' (alert)' : ''}` : 'not judged yet'],
      ['Ruleset', v?.ruleset],
      ['Judged against block', v?.block_number],
      ['Gate', gate],
      ['Court', dispute],
      ['Review', record ? reviewBadge(record.review?.state) : null],
    ].filter(([, x]) => x !== undefined && x !== null))),
    h('h2', {}, 'Findings'),
    v?.findings?.length
      ? v.findings.map((f) => h('div', { class: `finding ${severityTone(f.severity) === 'bad' ? '' : 'note'}` }, h('div', {}, h('span', { class: 'rule' }, f.rule), ' ', badge(f.severity, severityTone(f.severity))), h('p', {}, f.message), f.addresses?.length ? h('div', { class: 'mono muted' }, f.addresses.join(' ')) : null))
      : h('p', { class: 'muted' }, 'No finding.'),
    h('h2', {}, 'Execution'),
    summary
      ? h('div', { class: 'card' }, facts([
          ['Target', summary.to ?? 'contract creation'],
          ['Result', summary.success ? 'succeeded' : `reverted${summary.revert_reason ? `: ${summary.revert_reason}` : ''}`],
          ['Gas used', summary.gas_used],
          ['Call frames', summary.calls],
          ['Logs', summary.logs],
          ['Contracts touched', summary.touched.length ? h('span', { class: 'mono' }, summary.touched.join(' ')) : '—'],
          ['Contracts created', summary.created.length ? h('span', { class: 'mono' }, summary.created.join(' ')) : '—'],
        ]))
      : h('p', { class: 'muted' }, 'Not simulated by this node.'),
    ...(summary && summary.detail === false
      ? [h('p', { id: 'no-detail', class: 'muted' }, 'Call tree, fund flows and storage changes are kept only for verdicts with a finding; this node judged it clean without one.')]
      : [
          h('h2', {}, 'Call tree'),
          callTree(summary),
          h('h2', {}, 'Fund flows'),
          flowsTable(summary),
          h('h2', {}, 'Storage changed by the accounts that lost value'),
          storageTable(summary),
        ]),
    h('h2', {}, 'Votes'),
    votesTable(c, verdict),
    h('h2', {}, 'Certificate'),
    verdict?.certificate
      ? h('details', {}, h('summary', {}, verdict.certificate.certificate ? `Batch certificate, leaf ${verdict.certificate.index} of ${verdict.certificate.certificate.count}` : 'Certificate'), h('pre', {}, JSON.stringify(verdict.certificate, null, 2)))
      : h('p', { class: 'muted' }, 'None (a quarantine by deadline has none).'),
  ];
  if (status.status === 'quarantined') {
    sections.push(h('h2', {}, 'Review'), reviewForm(hash, record, () => {}));
  }
  render('Transaction', ...sections);
}

const formatWei = (s) => {
  // Decimal strings of any size: group digits for reading.
  const neg = s.startsWith('-');
  const digits = neg ? s.slice(1) : s;
  return (neg ? '−' : '') + digits.replace(/\B(?=(\d{3})+(?!\d))/g, ',');
};

// Indents a call by its depth (through the CSSOM: the page's policy allows
// no inline style attribute).
function indent(li, depth) {
  li.style.setProperty('--depth', String(Math.min(depth, 24)));
  return li;
}

function callTree(summary) {
  const frames = summary?.frames ?? [];
  if (!frames.length) return h('p', { class: 'muted' }, 'No call recorded.');
  const items = frames.map((f) => indent(h('li', { class: f.reverted ? 'reverted' : '' },
    h('span', { class: 'kind' }, f.kind), ' ',
    h('span', { class: 'mono' }, f.caller), ' → ', h('span', { class: 'mono' }, f.callee),
    f.selector ? [' ', h('span', { class: 'mono selector', title: f.selector }, KNOWN_FUNCTIONS[f.selector] ?? f.selector)] : null,
    f.value !== '0' ? [' ', badge(`${formatWei(f.value)} wei`, 'warn')] : null,
    ' ', h('span', { class: 'muted' }, `${f.gas_used} gas`),
    f.reverted ? [' ', badge('reverted', 'muted')] : null), f.depth));
  return h('div', {}, h('ol', { id: 'call-tree', class: 'tree' }, items), summary.frames_omitted ? h('p', { class: 'muted' }, `${summary.frames_omitted} more calls not kept.`) : null);
}

function flowsTable(summary) {
  const flows = summary?.flows ?? [];
  if (!flows.length) return h('p', { class: 'muted' }, 'No value moved.');
  return h('table', { id: 'flows' }, h('thead', {}, h('tr', {}, ['Address', 'Asset', 'Net', ''].map((t) => h('th', { scope: 'col' }, t)))), h('tbody', {}, flows.map((f) => {
    const lost = f.net.startsWith('-');
    return h('tr', { class: lost ? 'lost' : '' },
      h('td', { 'data-label': 'Address', class: 'mono' }, f.address),
      h('td', { 'data-label': 'Asset', class: 'mono' }, f.asset === 'native' ? 'ETH (wei, gas included)' : f.asset),
      h('td', { 'data-label': 'Net' }, formatWei(f.net)),
      h('td', { 'data-label': 'Side' }, lost ? badge('lost', 'bad') : badge('gained', 'good')));
  })));
}

function storageTable(summary) {
  const changes = summary?.storage ?? [];
  if (!changes.length) return h('p', { class: 'muted' }, 'None.');
  return h('table', { id: 'storage' }, h('thead', {}, h('tr', {}, ['Account', 'Slot', 'Before', 'After'].map((t) => h('th', { scope: 'col' }, t)))), h('tbody', {}, changes.map((c) => h('tr', {},
    h('td', { 'data-label': 'Account', class: 'mono' }, c.address),
    h('td', { 'data-label': 'Slot', class: 'hash' }, c.slot),
    h('td', { 'data-label': 'Before', class: 'hash' }, c.before),
    h('td', { 'data-label': 'After', class: 'hash' }, c.after)))));
}

function votesTable(c, verdict) {
  const byMember = memberVerdicts(verdict);
  const total = totalStake(c);
  const rows = c.members.map((m) => {
    const said = byMember.get(m.index);
    return h('tr', {},
      h('td', { 'data-label': 'Member' }, `#${m.index}`),
      h('td', { 'data-label': 'Stake' }, `${eth(m.stake)} (${percent(BigInt(m.stake), total)} %)`),
      h('td', { 'data-label': 'Verdict' }, said ? badge(said.kind, said.kind === 'malicious' ? 'bad' : 'good') : badge('no vote seen', 'muted')),
      h('td', { 'data-label': 'Through', class: 'muted' }, said?.how ?? ''),
      h('td', { 'data-label': 'Peer', class: 'mono' }, m.peer_id));
  });
  return h('div', {}, h('p', {}, tally(c, byMember), ` (threshold ${c.threshold.num}/${c.threshold.den})`), h('table', { id: 'votes' }, h('thead', {}, h('tr', {}, ['Member', 'Stake', 'Verdict', 'Through', 'Peer'].map((t) => h('th', { scope: 'col' }, t)))), h('tbody', {}, rows)));
}

// ---------- history and alerts ----------

function historyTable(items) {
  return h('table', {}, h('thead', {}, h('tr', {}, ['Transaction', 'Sender', 'Block', 'Verdict', 'Score', 'Rules'].map((t) => h('th', { scope: 'col' }, t)))), h('tbody', {}, items.map((e) => historyRow(e))));
}

function historyRow(e, fresh) {
  return h('tr', { class: fresh ? 'fresh' : '' },
    h('td', { 'data-label': 'Transaction' }, txLink(e.tx_hash)),
    h('td', { 'data-label': 'Sender', class: 'mono' }, e.sender),
    h('td', { 'data-label': 'Block' }, e.block_number),
    h('td', { 'data-label': 'Verdict' }, badge(e.alert ? `${e.verdict}, alert` : e.verdict, e.verdict === 'malicious' ? 'bad' : e.alert ? 'warn' : 'good')),
    h('td', { 'data-label': 'Score' }, e.score),
    h('td', { 'data-label': 'Rules' }, (e.rules ?? []).join(', ') || '—'));
}

async function historyPage() {
  const q = new URLSearchParams(location.search);
  const field = (name, label, attrs = {}) => h('label', {}, label, h('input', { name, value: q.get(name) ?? '', ...attrs }));
  const kind = h('select', { name: 'kind' }, [['', 'any'], ['clean', 'judged clean'], ['malicious', 'judged malicious'], ['certified', 'certified'], ['quarantined', 'quarantined'], ['alert', 'alerts']].map(([v, l]) => h('option', { value: v, selected: v === (q.get('kind') ?? '') }, l)));
  const results = h('div', {});
  const form = h('form', {
    class: 'toolbar',
    onsubmit: (e) => {
      e.preventDefault();
      const p = new URLSearchParams();
      for (const [k, v] of new FormData(e.target)) if (v) p.set(k, v);
      go(`/history?${p}`);
    },
  }, field('address', 'Address', { placeholder: '0x…', size: 44 }), field('from_block', 'From block', { inputmode: 'numeric', size: 8 }), field('to_block', 'To block', { inputmode: 'numeric', size: 8 }), h('label', {}, 'Kind', kind), h('button', { type: 'submit' }, 'Search'));
  render('History', form, results);
  const params = {};
  if (q.get('address')) params.address = q.get('address');
  for (const k of ['from_block', 'to_block']) if (q.get(k)) params[k] = Number(q.get(k));
  if (q.get('kind')) params.kind = q.get('kind');
  let cursor = q.get('cursor') || undefined;
  const page = await app.rpc.call('vigil_history', [{ ...params, cursor, limit: PAGE }]).catch((e) => ({ error: e }));
  if (page.error) {
    results.replaceChildren(notice(page.error.message, 'error'));
    return;
  }
  const next = new URLSearchParams(q);
  if (page.next_cursor) next.set('cursor', page.next_cursor);
  const older = page.next_cursor ? h('p', {}, h('a', { href: `/history?${next}`, 'data-link': '' }, 'Older')) : '';
  results.replaceChildren(page.items.length ? historyTable(page.items) : h('p', { class: 'empty' }, 'No verdict matches.'), older);
}

async function alertsPage() {
  const tbody = h('tbody', {});
  render('Alerts', h('p', { class: 'muted' }, 'Admitted transactions with findings that reach the alert score (DESIGN §5), newest first; new ones appear live.'), h('table', {}, h('thead', {}, h('tr', {}, ['Transaction', 'Sender', 'Block', 'Verdict', 'Score', 'Rules'].map((t) => h('th', { scope: 'col' }, t)))), tbody));
  onLeave(await app.rpc.subscribe('alerts', (v) => {
    tbody.prepend(historyRow({ tx_hash: v.tx_hash, sender: '', block_number: v.block_number, verdict: v.kind, score: v.score, alert: true, rules: v.findings.map((f) => f.rule) }, true));
  }));
  const page = await app.rpc.call('vigil_history', [{ kind: 'alert', limit: PAGE }]);
  for (const e of page.items) tbody.append(historyRow(e));
}

// ---------- network ----------

function parseMetrics(text) {
  const out = new Map();
  for (const line of text.split('\n')) {
    if (!line || line.startsWith('#')) continue;
    const i = line.lastIndexOf(' ');
    out.set(line.slice(0, i), Number(line.slice(i + 1)));
  }
  return out;
}

const sumOf = (m, name) => [...m].filter(([k]) => k === name || k.startsWith(`${name}{`)).reduce((s, [, v]) => s + v, 0);

// The q-quantile of a Prometheus histogram's increase between two scrapes.
function quantile(prev, cur, name, label, q) {
  const buckets = [...cur].filter(([k]) => k.startsWith(`${name}_bucket{`) && k.includes(label)).map(([k, v]) => [Number(k.match(/le="([^"]+)"/)[1]), v - (prev.get(k) ?? 0)]).sort((a, b) => a[0] - b[0]);
  const total = buckets.at(-1)?.[1] ?? 0;
  if (!total) return null;
  return buckets.find(([, n]) => n >= q * total)?.[0] ?? null;
}

function chart(title, unit) {
  const values = [];
  const value = h('span', { class: 'value' }, '—');
  const line = document.createElementNS('http://www.w3.org/2000/svg', 'polyline');
  const svg = document.createElementNS('http://www.w3.org/2000/svg', 'svg');
  svg.setAttribute('viewBox', '0 0 120 40');
  svg.setAttribute('preserveAspectRatio', 'none');
  svg.setAttribute('role', 'img');
  svg.setAttribute('aria-label', title);
  svg.append(line);
  const node = h('div', { class: 'card chart' }, h('div', {}, title), value, ` ${unit}`, svg);
  return {
    node,
    push(v) {
      values.push(v ?? 0);
      if (values.length > 60) values.shift();
      value.textContent = v === null ? '—' : v >= 10 ? v.toFixed(0) : v.toFixed(2);
      const max = Math.max(...values, 1e-9);
      line.setAttribute('points', values.map((x, i) => `${(i * 120) / 59},${40 - (x / max) * 38}`).join(' '));
    },
  };
}

async function networkPage() {
  const [info, c, peers] = await Promise.all([app.rpc.call('vigil_nodeInfo'), committee(), app.rpc.call('vigil_peers').catch(() => [])]);
  const scores = new Map(peers.map((p) => [p.peer_id, p.score]));
  const total = totalStake(c);
  const charts = {
    verdicts: chart('Verdicts', 'per second'),
    certificates: chart('Certificates', 'per second'),
    quarantines: chart('Quarantines', 'per second'),
    p50: chart('Certificate latency p50 (histogram bucket bound)', 'ms'),
    p99: chart('Certificate latency p99 (histogram bucket bound)', 'ms'),
  };
  const members = c.members.map((m) => {
    const self = m.peer_id === info.peer_id;
    const score = scores.get(m.peer_id);
    return h('tr', {},
      h('td', { 'data-label': 'Member' }, `#${m.index}`, self ? ' (this node)' : ''),
      h('td', { 'data-label': 'Stake' }, `${eth(m.stake)} (${percent(BigInt(m.stake), total)} %)`),
      h('td', { 'data-label': 'Liveness' }, self ? badge('this node', 'good') : score === undefined ? badge('not connected', 'bad') : badge('connected', 'good')),
      h('td', { 'data-label': 'Peer score' }, score === undefined ? '—' : score.toFixed(1)),
      h('td', { 'data-label': 'Peer id', class: 'mono' }, m.peer_id));
  });
  render('Network',
    h('div', { class: 'card' }, facts([
      ['Chain', info.chain_id], ['Epoch', info.epoch], ['Ruleset', info.ruleset], ['Head', `${info.head.number} ${info.head.hash}`],
      ['This node', info.signer_index === null ? 'not a member' : `member #${info.signer_index}`], ['Peer id', info.peer_id], ['Up for', `${info.uptime_s} s`],
      ['Threshold', `more than ${c.threshold.num}/${c.threshold.den} of stake`], ['Peers connected', peers.length],
    ])),
    h('h2', {}, 'Committee'),
    h('table', {}, h('thead', {}, h('tr', {}, ['Member', 'Stake', 'Liveness', 'Peer score', 'Peer id'].map((t) => h('th', { scope: 'col' }, t)))), h('tbody', {}, members)),
    h('h2', {}, 'Activity (this node, every 2 s)'),
    h('div', { class: 'charts' }, Object.values(charts).map((x) => x.node)));
  let prev = null;
  let prevAt = 0;
  const tick = async () => {
    const text = await fetch('/metrics').then((r) => r.text()).catch(() => null);
    if (!text) return;
    const cur = parseMetrics(text);
    const now = performance.now();
    if (prev) {
      const dt = (now - prevAt) / 1000;
      charts.verdicts.push((sumOf(cur, 'vigil_node_verdicts_total') - sumOf(prev, 'vigil_node_verdicts_total')) / dt);
      charts.certificates.push((sumOf(cur, 'vigil_node_certificates_total') - sumOf(prev, 'vigil_node_certificates_total')) / dt);
      charts.quarantines.push((sumOf(cur, 'vigil_node_quarantined_total') - sumOf(prev, 'vigil_node_quarantined_total')) / dt);
      const ms = (q) => { const s = quantile(prev, cur, 'vigil_node_stage_seconds', 'stage="certify"', q); return s === null ? null : s * 1000; };
      charts.p50.push(ms(0.5));
      charts.p99.push(ms(0.99));
    }
    prev = cur;
    prevAt = now;
  };
  await tick();
  const timer = setInterval(tick, 2000);
  onLeave(() => clearInterval(timer));
}

// ---------- routing ----------

function go(url) {
  history.pushState(null, '', url);
  route();
}

async function route() {
  for (const f of app.leave.splice(0)) f();
  const path = location.pathname;
  for (const a of document.querySelectorAll('nav a')) {
    const here = a.getAttribute('href') === path || (path.startsWith('/tx/') && a.dataset.route === 'queue');
    if (here) a.setAttribute('aria-current', 'page');
    else a.removeAttribute('aria-current');
  }
  try {
    const tx = path.match(/^\/tx\/(0x[0-9a-fA-F]{64})$/);
    if (tx) await txPage(tx[1].toLowerCase());
    else if (path.startsWith('/tx/')) render('Transaction', notice('Not a transaction hash: expected 0x and 64 hex digits.', 'error'));
    else if (path === '/alerts') await alertsPage();
    else if (path === '/history') await historyPage();
    else if (path === '/network') await networkPage();
    else await queuePage();
  } catch (e) {
    main().append(notice(`Could not load: ${e.message}`, 'error'));
  }
  main().focus({ preventScroll: true });
}

document.addEventListener('click', (e) => {
  const a = e.target.closest('a');
  if (!a || e.defaultPrevented || e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey) return;
  const url = new URL(a.href, location.href);
  if (url.origin !== location.origin || a.target) return;
  e.preventDefault();
  go(url.pathname + url.search);
});
window.addEventListener('popstate', route);

async function start() {
  app.config = await fetch('/config.json').then((r) => r.json());
  const scheme = location.protocol === 'https:' ? 'wss' : 'ws';
  const conn = document.getElementById('conn');
  app.rpc = new Rpc(`${scheme}://${location.hostname}:${app.config.rpc_port}`, (s) => {
    conn.textContent = s === 'up' ? 'live' : 'reconnecting…';
    conn.className = `conn ${s}`;
  });
  await route();
}

start();
