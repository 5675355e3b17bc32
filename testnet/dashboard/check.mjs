// Drives node 0's operator dashboard in Debian's Chromium while the testnet
// demo plays (node/tests/it/testnet.rs runs it; by hand:
//   node check.mjs --url http://127.0.0.1:PORT/ --token-file DATA/operator.token [--screenshots DIR]).
// Checks, as an operator would see them: the page goes live; an attack
// appears in the quarantine queue as it happens, with its finding, sender,
// target and vote tally; keyboard navigation opens its transaction view
// with the finding, the execution summary and the members' votes; a wrong
// operator token gets a visible refusal; the right one marks it confirmed
// malicious, and the queue filtered by that state shows it; with
// --held-tx HASH (a benign transaction the testnet's treasury policy holds),
// its view shows the policy finding and "Release through the gate" releases
// it with the node's operator key, and the gate includes it; the network
// view lists the committee, every member connected; the page fits a phone's
// width. Prints one JSON line; exits 1 on the first failed check.
import { readFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { chromium } from 'playwright-core';

const args = Object.fromEntries(
  process.argv.slice(2).reduce((pairs, a, i, all) => (a.startsWith('--') ? [...pairs, [a.slice(2), all[i + 1]]] : pairs), []),
);
const url = args.url;
const token = readFileSync(args['token-file'], 'utf8').trim();
const shots = args.screenshots;
const WAIT = Number(args['wait-ms'] ?? 240000);
if (shots) mkdirSync(shots, { recursive: true });

const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--no-sandbox', '--disable-background-networking'] });
const errors = [];
const result = {};
function check(ok, what) {
  if (!ok) throw new Error(`check failed: ${what}`);
}
async function shot(page, name) {
  if (shots) await page.screenshot({ path: join(shots, `${name}.png`), fullPage: true });
}
try {
  const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
  page.on('pageerror', (e) => errors.push(e.message));
  page.on('console', (m) => m.type() === 'error' && errors.push(m.text()));
  await page.goto(url);
  await page.locator('#conn.up').waitFor({ timeout: 30000 });
  const before = await page.locator('#queue tr').count();

  // An attack arrives while the page is open.
  const fresh = page.locator('#queue tr.fresh').first();
  await fresh.waitFor({ timeout: WAIT });
  const hash = await fresh.getAttribute('data-tx');
  result.live_row = hash;
  result.rows_before = before;
  const cell = (label) => fresh.locator(`td[data-label="${label}"]`).innerText();
  await page.waitForFunction((h) => {
    const row = document.querySelector(`#queue tr[data-tx="${h}"]`);
    return row && ![...row.cells].some((c) => c.textContent === '…');
  }, hash, { timeout: 15000 });
  result.row = { finding: await cell('Top finding'), sender: await cell('Sender'), target: await cell('Target'), votes: await cell('Votes'), gate: await cell('Gate'), dispute: await cell('Dispute'), review: await cell('Review') };
  check(result.row.dispute === 'no dispute', `the court is asked, and no dispute is open: ${result.row.dispute}`);
  check(result.row.finding !== '—', `the row names a finding: ${JSON.stringify(result.row)}`);
  check(/^0x[0-9a-fA-F]{40}$/.test(result.row.sender), `the row names the sender: ${result.row.sender}`);
  check(/malicious [1-9]/.test(result.row.votes), `the tally shows malicious stake: ${result.row.votes}`);
  check(result.row.review === 'not reviewed', `a new quarantine is not reviewed: ${result.row.review}`);
  const wide = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  check(wide <= 1, `no horizontal scrolling at 1280 px: ${wide}px too wide`);
  await shot(page, 'queue');

  // Keyboard: focus the row's link and press Enter.
  await fresh.locator('a').focus();
  await page.keyboard.press('Enter');
  await page.waitForURL(`**/tx/${hash}`);
  await page.getByRole('heading', { name: 'Findings' }).waitFor();
  const decision = await page.locator('.decision').innerText();
  check(decision.includes('quarantined'), `the view says quarantined: ${decision}`);
  const finding = await page.locator('.finding').first().innerText();
  check(finding.length > 20, `the finding has its sentence: ${finding}`);
  result.finding = finding.split('\n')[0];
  const votes = await page.locator('#votes tbody tr').count();
  check(votes === 4, `every member's row in the votes table: ${votes}`);
  await page.getByText('Call frames').waitFor();
  const calls = await page.locator('#call-tree li').count();
  check(calls > 1, `the call tree lists the attack's calls: ${calls}`);
  result.call_tree = calls;
  const text = await page.locator('main').innerText();
  check(!/\bnull\b|undefined|\[object /.test(text), 'no stray null, undefined or [object] on the transaction view');
  const lost = await page.locator('#flows tr.lost').count();
  check(lost >= 1, `the fund flows mark the losing side: ${lost}`);
  await shot(page, 'transaction');

  // A wrong token: refused, visibly; nothing changes.
  await page.selectOption('#review-state', 'confirmed_malicious');
  await page.fill('#token', 'not-the-token');
  await page.click('#review button[type=submit]');
  const refusal = page.locator('#review .notice.error');
  await refusal.waitFor({ timeout: 10000 });
  result.refusal = await refusal.innerText();
  check(/wrong operator token/.test(result.refusal), `the refusal says why: ${result.refusal}`);

  // The right token: saved; kept for the session (the field hides).
  await page.fill('#token', token);
  await page.fill('#reviewer', 'dashboard-check');
  await page.fill('#review-note', 'confirmed from the call tree and the finding');
  await page.click('#review button[type=submit]');
  await page.locator('#review .notice.ok').waitFor({ timeout: 10000 });
  check(await page.locator('#token').isHidden(), 'the token field hides once the token is accepted');
  check(!page.url().includes(token), 'the token never appears in the URL');
  // Reloaded, the view shows the review it now has.
  await page.reload();
  await page.getByRole('heading', { name: 'Findings' }).waitFor();
  const facts = await page.locator('.card dl.facts').first().innerText();
  check(/Review\s+confirmed malicious/.test(facts), `the view shows the saved review: ${facts}`);

  // The queue filtered by the new state holds it.
  await page.goto(`${url}?state=confirmed_malicious`);
  const reviewed = page.locator(`#queue tr[data-tx="${hash}"]`);
  await reviewed.waitFor({ timeout: 15000 });
  result.reviewed = await reviewed.locator('td[data-label="Review"]').innerText();
  check(result.reviewed === 'confirmed malicious', `reviewed state shown: ${result.reviewed}`);

  // A benign transaction held by policy: released with the operator key
  // (the token is kept for the tab), then included through the gate.
  const held = args['held-tx'];
  if (held) {
    await page.goto(`${url}tx/${held}`);
    const start = Date.now();
    while (!(await page.locator('.decision').innerText().catch(() => '')).includes('quarantined')) {
      check(Date.now() - start < 60000, 'the held transaction is quarantined within 60 s');
      await page.waitForTimeout(1000);
      await page.reload();
    }
    const policy = await page.locator('.finding').first().innerText();
    check(policy.includes('protocol-policy'), `held by the treasury policy: ${policy}`);
    await page.fill('#review-note', 'treasury payout approved by the operator');
    await page.click('#release');
    const ok = page.locator('#review .notice.ok');
    await ok.waitFor({ timeout: 15000 });
    result.release = await ok.innerText();
    check(/Released/.test(result.release), `release confirmed: ${result.release}`);
    let gate = '';
    const since = Date.now();
    while (gate !== 'included') {
      check(Date.now() - since < 30000, `the released transaction is included through the gate (status ${gate})`);
      await page.waitForTimeout(500);
      gate = await page.evaluate(async (h) => {
        const r = await fetch('/gate', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ method: 'vigil_getTxStatus', params: [h] }) });
        return (await r.json()).result?.status ?? '';
      }, held);
    }
    result.held = { tx: held, gate };
  }

  // History: the attacker's address finds the attack, judged malicious.
  await page.goto(`${url}history`);
  await page.fill('input[name=address]', result.row.sender);
  await page.press('input[name=address]', 'Enter');
  const found = page.locator(`a[href="/tx/${hash}"]`);
  await found.waitFor({ timeout: 10000 });
  check(page.url().includes(`address=${result.row.sender}`), `the search is in the URL: ${page.url()}`);
  const stray = await page.locator('main').innerText();
  check(!/\bnull\b|undefined|\[object /.test(stray), `no stray null, undefined or [object] on the page: ${stray.slice(0, 200)}`);
  await shot(page, 'history');
  // A plainly clean transaction (no finding; the newest few clean ones
  // include one): its view says the call tree is kept only for verdicts
  // with a finding, and shows none.
  await page.goto(`${url}history?kind=clean`);
  await page.locator('main a[href^="/tx/"]').first().waitFor({ timeout: 10000 });
  const cleanLinks = (await page.locator('main a[href^="/tx/"]').evaluateAll((as) => as.map((a) => a.getAttribute('href')))).slice(0, 5);
  let plain = null;
  for (const href of cleanLinks) {
    await page.goto(`${url}${href.slice(1)}`);
    await page.getByRole('heading', { name: 'Findings' }).waitFor();
    if ((await page.locator('main').innerText()).includes('No finding.')) {
      plain = href;
      break;
    }
  }
  check(plain !== null, `one of the newest clean transactions has no finding: ${cleanLinks}`);
  await page.locator('#no-detail').waitFor({ timeout: 5000 });
  check((await page.locator('#call-tree').count()) === 0, 'no call tree shown for a plainly clean verdict');
  result.cleanWithoutDetail = plain;
  await page.goto(`${url}alerts`);
  await page.getByRole('heading', { name: 'Alerts' }).waitFor();
  await shot(page, 'alerts');

  // The network view: the committee, each member connected or this node.
  await page.goto(`${url}network`);
  await page.getByRole('heading', { name: 'Committee' }).waitFor();
  const members = page.locator('table tbody tr');
  check((await members.count()) === 4, 'four committee members');
  const liveness = await members.locator('td[data-label="Liveness"]').allInnerTexts();
  result.liveness = liveness;
  check(liveness.every((l) => l === 'connected' || l === 'this node'), `every member connected: ${liveness}`);
  await page.locator('.chart .value').first().waitFor();
  await page.waitForTimeout(4500); // two metric scrapes make the first rate point
  await shot(page, 'network');

  // Phone width: nothing wider than the screen.
  await page.setViewportSize({ width: 390, height: 844 });
  await page.goto(url);
  await page.locator('#queue tr').first().waitFor();
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  check(overflow <= 1, `no horizontal scrolling at 390 px: ${overflow}px too wide`);
  await shot(page, 'queue-phone');

  check(errors.length === 0, `no script error: ${errors.join(' | ')}`);
  console.log(JSON.stringify({ ok: true, ...result }));
} catch (e) {
  console.log(JSON.stringify({ ok: false, error: e.message, errors, ...result }));
  process.exitCode = 1;
} finally {
  await browser.close();
}
