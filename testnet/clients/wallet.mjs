#!/usr/bin/env node
// Real-wallet flow against any Ethereum JSON-RPC endpoint, written with viem
// exactly as an app would use it (public + wallet clients, local account,
// a chain defined from eth_chainId). Exits 0 when every check passes and
// non-zero on the first failure; the last stdout line is a JSON summary.
//
//   node wallet.mjs --rpc http://HOST:PORT [--ws ws://HOST:PORT] \
//                   --key 0xPRIVATEKEY [--timeout-ms 60000]
//
// Transactions may be held by the server (Vigil holds them until a
// certificate arrives), so every transaction is awaited by polling its
// receipt, with a timeout that names the step that timed out.
import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import {
  createPublicClient,
  createWalletClient,
  defineChain,
  encodeFunctionData,
  http,
  parseAbiItem,
  parseEventLogs,
  webSocket,
} from "viem";
import { generatePrivateKey, privateKeyToAccount } from "viem/accounts";

const here = dirname(fileURLToPath(import.meta.url));
const artifact = JSON.parse(readFileSync(join(here, "artifacts", "Counter.json"), "utf8"));
const { abi, bytecode, deployedBytecode } = artifact;

// ---------------------------------------------------------------- arguments
let args;
try {
  args = parseArgs({
    options: {
      rpc: { type: "string" },
      ws: { type: "string" },
      key: { type: "string" },
      "timeout-ms": { type: "string", default: "60000" },
      "polling-ms": { type: "string", default: "100" },
      help: { type: "boolean", short: "h" },
    },
    strict: true,
  }).values;
} catch (e) {
  console.error(`wallet.mjs: ${e.message}`);
  process.exit(2);
}
const usage =
  "usage: node wallet.mjs --rpc http://HOST:PORT [--ws ws://HOST:PORT] --key 0xPRIVATEKEY [--timeout-ms 60000] [--polling-ms 100]";
if (args.help) {
  console.log(usage);
  process.exit(0);
}
if (!args.rpc || !args.key || !/^0x[0-9a-fA-F]{64}$/.test(args.key)) {
  console.error(usage);
  process.exit(2);
}
const timeoutMs = Number(args["timeout-ms"]);
const pollingInterval = Number(args["polling-ms"]);
if (!(timeoutMs > 0) || !(pollingInterval > 0)) {
  console.error("wallet.mjs: --timeout-ms and --polling-ms must be positive numbers");
  process.exit(2);
}

// ------------------------------------------------- JSON-RPC method recorder
// Wraps a viem transport so every JSON-RPC method viem sends is counted;
// the summary lists them (what a server must implement for this flow).
const methods = {};
const record = (m) => (methods[m] = (methods[m] ?? 0) + 1);
const subscriptions = []; // promises of eth_subscribe round trips
function recorded(transport, label) {
  return (opts) => {
    const t = transport(opts);
    const value = t.value && { ...t.value };
    if (value?.subscribe) {
      const subscribe = t.value.subscribe;
      value.subscribe = (a) => {
        record(`eth_subscribe(${a.params?.[0]})@${label}`);
        const p = subscribe(a);
        subscriptions.push(p.then(() => a.params?.[0]));
        return p;
      };
    }
    return {
      ...t,
      value,
      request: (req, o) => {
        record(`${req.method}@${label}`);
        return t.request(req, o);
      },
    };
  };
}

// ------------------------------------------------------------ check runner
let checks = 0;
let current = "startup";
const warnings = [];
const started = Date.now();
const summary = { rpc: args.rpc, ws: args.ws ?? null };

class StepTimeout extends Error {}
function withTimeout(promise, what = current, ms = timeoutMs) {
  let timer;
  return Promise.race([
    promise,
    new Promise((_, reject) => {
      timer = setTimeout(
        () => reject(new StepTimeout(`timed out after ${ms} ms waiting for: ${what}`)),
        ms,
      );
    }),
  ]).finally(() => clearTimeout(timer));
}

function fail(message) {
  throw new Error(message);
}
function expect(cond, message) {
  if (!cond) fail(message);
}
const str = (v) =>
  JSON.stringify(v, (_, x) => (typeof x === "bigint" ? x.toString() : x));

async function check(name, fn) {
  current = name;
  const t0 = Date.now();
  // Waits inside a check have their own --timeout-ms (and name what they
  // waited for); the check as a whole gets a backstop of 4x that.
  const detail = await withTimeout(Promise.resolve().then(fn), `check "${name}"`, 4 * timeoutMs);
  checks++;
  const shown = ["string", "number", "bigint"].includes(typeof detail)
    ? detail
    : typeof detail?.transactionHash === "string"
      ? `tx ${detail.transactionHash} in #${detail.blockNumber}`
      : typeof detail?.hash === "string"
        ? `#${detail.number} ${detail.hash}`
        : "";
  console.log(`ok   ${String(checks).padStart(2)} ${name} (${Date.now() - t0} ms)${shown !== "" ? "  " + shown : ""}`);
  return detail;
}

function finish(ok, error) {
  const line = {
    ok,
    checks,
    ...(ok ? {} : { failed: current, error }),
    ...summary,
    elapsedMs: Date.now() - started,
    warnings,
    methods: Object.fromEntries(Object.entries(methods).sort(([a], [b]) => a.localeCompare(b))),
  };
  console.log(str(line));
  process.exit(ok ? 0 : 1);
}

async function waitReceipt(client, hash, what) {
  try {
    return await withTimeout(
      client.waitForTransactionReceipt({ hash, pollingInterval, timeout: timeoutMs }),
      `receipt of ${what} (${hash})`,
    );
  } catch (e) {
    if (e?.name === "WaitForTransactionReceiptTimeoutError") {
      fail(`timed out after ${timeoutMs} ms waiting for receipt of ${what} (${hash})`);
    }
    throw e;
  }
}

function waitFor(predicate, what) {
  return withTimeout(
    new Promise((resolve) => {
      const tick = () => (predicate() ? resolve() : setTimeout(tick, 20));
      tick();
    }),
    what,
  );
}

async function expectRevert(promise, reason, what) {
  let err;
  try {
    await promise;
  } catch (e) {
    err = e;
  }
  expect(err, `${what} did not reject`);
  const text = [err.message, err.shortMessage, err.details, err.cause?.message, err.cause?.reason]
    .filter(Boolean)
    .join(" | ");
  expect(text.includes(reason), `${what} rejected without "${reason}": ${err.shortMessage ?? err.message}`);
  return err;
}

// ------------------------------------------------------------------- flow
async function main() {
  const account = privateKeyToAccount(args.key);
  summary.account = account.address;
  const bootstrap = createPublicClient({
    transport: recorded(http(args.rpc, { timeout: timeoutMs }), "http"),
  });

  // -- chain identity
  const chainId = await check("eth_chainId", async () => {
    const hex = await bootstrap.request({ method: "eth_chainId" });
    expect(/^0x[0-9a-f]+$/i.test(hex), `eth_chainId returned ${str(hex)}`);
    return Number(BigInt(hex));
  });
  summary.chainId = chainId;

  const chain = defineChain({
    id: chainId,
    name: `rpc-${chainId}`,
    nativeCurrency: { name: "Ether", symbol: "ETH", decimals: 18 },
    rpcUrls: { default: { http: [args.rpc], ...(args.ws ? { webSocket: [args.ws] } : {}) } },
  });
  const transport = recorded(http(args.rpc, { timeout: timeoutMs }), "http");
  const client = createPublicClient({ chain, transport, pollingInterval });
  const wallet = createWalletClient({ account, chain, transport, pollingInterval });

  await check("net_version", async () => {
    const v = await client.request({ method: "net_version" });
    expect(typeof v === "string" && /^\d+$/.test(v), `net_version returned ${str(v)}`);
    if (v !== String(chainId)) warnings.push(`net_version ${v} differs from chain id ${chainId}`);
    return v;
  });
  await check("web3_clientVersion", async () => {
    const v = await client.request({ method: "web3_clientVersion" });
    expect(typeof v === "string" && v.length > 0, `web3_clientVersion returned ${str(v)}`);
    summary.clientVersion = v;
    return v;
  });
  await check("getChainId", async () => {
    const id = await client.getChainId();
    expect(id === chainId, `getChainId ${id} != ${chainId}`);
  });
  await check("getBlockNumber", async () => {
    const n = await client.getBlockNumber({ cacheTime: 0 });
    expect(typeof n === "bigint" && n >= 0n, `blockNumber ${n}`);
    return `#${n}`;
  });
  const latest = await check("getBlock(latest) has baseFeePerGas", async () => {
    const b = await client.getBlock({ blockTag: "latest" });
    expect(b.hash && b.number !== null, `latest block lacks hash/number: ${str(b)}`);
    expect(typeof b.baseFeePerGas === "bigint", `latest block has no baseFeePerGas`);
    return b;
  });
  await check("getGasPrice", async () => {
    const p = await client.getGasPrice();
    expect(p > 0n, `gas price ${p}`);
    return `${p} wei`;
  });
  await check("estimateMaxPriorityFeePerGas", async () => {
    const p = await client.estimateMaxPriorityFeePerGas();
    expect(p >= 0n, `priority fee ${p}`);
    return `${p} wei`;
  });
  await check("estimateFeesPerGas", async () => {
    const f = await client.estimateFeesPerGas();
    expect(f.maxFeePerGas >= latest.baseFeePerGas, `maxFeePerGas ${f.maxFeePerGas} < baseFee`);
    return `maxFee ${f.maxFeePerGas}`;
  });
  await check("getFeeHistory(4, latest, [25,75])", async () => {
    const h = await client.getFeeHistory({ blockCount: 4, blockTag: "latest", rewardPercentiles: [25, 75] });
    const n = h.gasUsedRatio.length;
    expect(n >= 1 && n <= 4, `gasUsedRatio has ${n} entries`);
    expect(h.baseFeePerGas.length === n + 1, `baseFeePerGas has ${h.baseFeePerGas.length} entries for ${n} blocks`);
    expect(h.reward?.length === n && h.reward.every((r) => r.length === 2), `reward shape ${str(h.reward)}`);
    expect(h.oldestBlock <= latest.number, `oldestBlock ${h.oldestBlock} > latest ${latest.number}`);
    return `${n} blocks from #${h.oldestBlock}`;
  });

  // -- account
  await check("getBalance(account) > 0", async () => {
    const b = await client.getBalance({ address: account.address });
    expect(b > 0n, `account ${account.address} has no balance`);
    return `${b} wei`;
  });
  const nonce0 = await check("getTransactionCount(pending)", async () => {
    const pending = await client.getTransactionCount({ address: account.address, blockTag: "pending" });
    const mined = await client.getTransactionCount({ address: account.address, blockTag: "latest" });
    expect(pending >= mined, `pending nonce ${pending} < latest nonce ${mined}`);
    return pending;
  });

  // -- plain transfer
  const recipient = privateKeyToAccount(generatePrivateKey()).address;
  const value = 1_000_000_000n; // 1 gwei
  const transfer = await check("sendTransaction(1 gwei to a fresh address)", async () => {
    const hash = await wallet.sendTransaction({ to: recipient, value });
    const r = await waitReceipt(client, hash, "transfer");
    expect(r.status === "success", `transfer status ${r.status}`);
    expect(r.from.toLowerCase() === account.address.toLowerCase(), `receipt.from ${r.from}`);
    expect(r.to?.toLowerCase() === recipient.toLowerCase(), `receipt.to ${r.to}`);
    expect(r.type === "eip1559", `transfer type ${r.type} (expected eip1559)`);
    return r;
  });
  await check("getBalance(recipient) == 1 gwei", async () => {
    const b = await client.getBalance({ address: recipient });
    expect(b === value, `recipient balance ${b} != ${value}`);
  });
  await check("getTransaction(transfer)", async () => {
    const tx = await client.getTransaction({ hash: transfer.transactionHash });
    expect(tx.nonce === nonce0, `transfer nonce ${tx.nonce} != ${nonce0}`);
    expect(tx.value === value && tx.to?.toLowerCase() === recipient.toLowerCase(), `transfer tx ${str(tx)}`);
  });

  // -- deploy
  const initial = 40n;
  const deploy = await check("deployContract(Counter, 40)", async () => {
    const hash = await wallet.deployContract({ abi, bytecode, args: [initial] });
    const r = await waitReceipt(client, hash, "deployment");
    expect(r.status === "success", `deploy status ${r.status}`);
    expect(r.contractAddress, `deploy receipt has no contractAddress`);
    return r;
  });
  const address = deploy.contractAddress;
  summary.counter = address;
  const counter = { address, abi };
  await check("getBytecode(counter)", async () => {
    const code = await client.getCode({ address });
    expect(code && code !== "0x", `no code at ${address}`);
    expect(code.length === deployedBytecode.length, `runtime code length ${code.length} != ${deployedBytecode.length}`);
    return `${(code.length - 2) / 2} bytes`;
  });
  await check("readContract count/deployer after deploy", async () => {
    const c = await client.readContract({ ...counter, functionName: "count" });
    expect(c === initial, `count ${c} != ${initial}`);
    const d = await client.readContract({ ...counter, functionName: "deployer" });
    expect(d.toLowerCase() === account.address.toLowerCase(), `deployer ${d}`);
  });

  // -- two increments without waiting in between
  const [h1, h2, n1] = await check("writeContract increment() x2 without waiting", async () => {
    const before = await client.getTransactionCount({ address: account.address, blockTag: "pending" });
    const h1 = await wallet.writeContract({ ...counter, functionName: "increment" });
    const after = await client.getTransactionCount({ address: account.address, blockTag: "pending" });
    expect(
      after === before + 1,
      `eth_getTransactionCount(pending) is ${after} right after sending nonce ${before}: the server must count held/pending transactions`,
    );
    const h2 = await wallet.writeContract({ ...counter, functionName: "increment" });
    expect(h1 !== h2, `both increments got the same hash ${h1}`);
    return [h1, h2, before];
  });
  const [r1, r2] = await check("receipts of both increments", async () => {
    const rs = await Promise.all([waitReceipt(client, h1, "increment #1"), waitReceipt(client, h2, "increment #2")]);
    for (const r of rs) expect(r.status === "success", `increment ${r.transactionHash} status ${r.status}`);
    return rs;
  });
  await check("readContract count == 42", async () => {
    const c = await client.readContract({ ...counter, functionName: "count" });
    expect(c === initial + 2n, `count ${c} != ${initial + 2n}`);
  });
  await check("receipt logs decode to Incremented(by, 41/42)", async () => {
    [r1, r2].forEach((r, i) => {
      const logs = parseEventLogs({ abi, logs: r.logs, eventName: "Incremented" });
      expect(logs.length === 1, `receipt ${i + 1} has ${logs.length} Incremented logs`);
      expect(logs[0].address.toLowerCase() === address.toLowerCase(), `log address ${logs[0].address}`);
      expect(logs[0].args.by.toLowerCase() === account.address.toLowerCase(), `log by ${logs[0].args.by}`);
      expect(logs[0].args.newCount === initial + BigInt(i + 1), `log newCount ${logs[0].args.newCount}`);
    });
  });
  const toBlock = r1.blockNumber > r2.blockNumber ? r1.blockNumber : r2.blockNumber;
  const fromBlock = deploy.blockNumber;
  await check("getContractEvents(Incremented) over the range", async () => {
    const logs = await client.getContractEvents({ ...counter, eventName: "Incremented", fromBlock, toBlock });
    expect(logs.length === 2, `got ${logs.length} Incremented logs in #${fromBlock}..#${toBlock}`);
    const got = logs.map((l) => [l.transactionHash, l.args.newCount]);
    expect(
      str(got) === str([[h1, initial + 1n], [h2, initial + 2n]]),
      `Incremented logs ${str(got)}`,
    );
    return `#${fromBlock}..#${toBlock}`;
  });
  await check("getLogs(event, args.by) matches receipts", async () => {
    const logs = await client.getLogs({
      address,
      event: parseAbiItem("event Incremented(address indexed by, uint256 newCount)"),
      args: { by: account.address },
      fromBlock,
      toBlock,
    });
    expect(logs.length === 2, `getLogs returned ${logs.length}`);
    const fromReceipts = [...r1.logs, ...r2.logs];
    logs.forEach((l, i) => {
      const rl = fromReceipts[i];
      for (const k of ["blockHash", "blockNumber", "transactionHash", "transactionIndex", "logIndex", "data"]) {
        expect(str(l[k]) === str(rl[k]), `log ${i} ${k}: getLogs ${str(l[k])} vs receipt ${str(rl[k])}`);
      }
      expect(str(l.topics) === str(rl.topics), `log ${i} topics differ`);
    });
    const none = await client.getLogs({
      address,
      event: parseAbiItem("event Incremented(address indexed by, uint256 newCount)"),
      args: { by: recipient },
      fromBlock,
      toBlock,
    });
    expect(none.length === 0, `topic filter by=${recipient} returned ${none.length} logs`);
  });
  await check("getTransactionReceipt(increment #1)", async () => {
    const r = await client.getTransactionReceipt({ hash: h1 });
    expect(str(r) === str(r1), `receipt differs from the awaited one`);
  });
  await check("getTransaction(increments): from/to/nonce", async () => {
    for (const [h, n, r] of [[h1, n1, r1], [h2, n1 + 1, r2]]) {
      const tx = await client.getTransaction({ hash: h });
      expect(tx.from.toLowerCase() === account.address.toLowerCase(), `tx ${h} from ${tx.from}`);
      expect(tx.to?.toLowerCase() === address.toLowerCase(), `tx ${h} to ${tx.to}`);
      expect(tx.nonce === n, `tx ${h} nonce ${tx.nonce} != ${n}`);
      expect(tx.blockNumber === r.blockNumber && tx.blockHash === r.blockHash, `tx ${h} block differs from receipt`);
      expect(tx.input === encodeFunctionData({ abi, functionName: "increment" }), `tx ${h} input ${tx.input}`);
      expect(tx.chainId === chainId, `tx ${h} chainId ${tx.chainId}`);
    }
  });
  await check("getBlock by number and by hash contain the tx", async () => {
    const byNumber = await client.getBlock({ blockNumber: r2.blockNumber });
    const byHash = await client.getBlock({ blockHash: r2.blockHash });
    const full = await client.getBlock({ blockHash: r2.blockHash, includeTransactions: true });
    expect(byNumber.hash === r2.blockHash, `block #${r2.blockNumber} hash ${byNumber.hash} != receipt ${r2.blockHash}`);
    expect(byHash.number === r2.blockNumber, `block ${r2.blockHash} number ${byHash.number}`);
    expect(byNumber.transactions.includes(h2), `block #${r2.blockNumber} lacks ${h2}`);
    expect(byHash.transactions.includes(h2), `block ${r2.blockHash} lacks ${h2}`);
    const t = full.transactions.find((x) => x.hash === h2);
    expect(t && t.blockHash === r2.blockHash, `full block lacks tx object ${h2}`);
    expect(typeof byNumber.baseFeePerGas === "bigint", `block has no baseFeePerGas`);
  });
  await check("getStorageAt(slot 0) == count", async () => {
    const s = await client.getStorageAt({ address, slot: "0x0" });
    expect(BigInt(s) === initial + 2n, `slot 0 = ${s}`);
  });

  // -- reverts and estimates
  await check('simulateContract(fail) rejects with "counter: fail"', async () => {
    await expectRevert(
      client.simulateContract({ ...counter, functionName: "fail", account }),
      "counter: fail",
      "simulateContract(fail)",
    );
  });
  await check('call(fail) rejects with "counter: fail"', async () => {
    await expectRevert(
      client.call({ account, to: address, data: encodeFunctionData({ abi, functionName: "fail" }) }),
      "counter: fail",
      "eth_call(fail)",
    );
  });
  await check("estimateContractGas(fail) rejects", async () => {
    let err;
    try {
      await client.estimateContractGas({ ...counter, functionName: "fail", account });
    } catch (e) {
      err = e;
    }
    expect(err, "eth_estimateGas of a reverting call did not reject");
    if (!String(err.message).includes("counter: fail")) {
      warnings.push("eth_estimateGas(fail) rejected without the revert reason");
    }
  });
  await check("estimateContractGas(increment) > 0", async () => {
    const g = await client.estimateContractGas({ ...counter, functionName: "increment", account });
    expect(g > 21000n, `estimateGas(increment) ${g}`);
    return `${g} gas`;
  });

  // -- websocket subscriptions
  if (args.ws) await wsChecks({ chain, account, wallet, client, counter });
}

async function wsChecks({ chain, account, wallet, client, counter }) {
  const ws = createPublicClient({
    chain,
    transport: recorded(webSocket(args.ws, { timeout: timeoutMs }), "ws"),
    pollingInterval,
  });
  await check("ws: eth_chainId and eth_blockNumber", async () => {
    const id = await ws.getChainId();
    expect(id === chain.id, `ws chain id ${id} != ${chain.id}`);
    const n = await ws.getBlockNumber({ cacheTime: 0 });
    return `#${n}`;
  });
  const startBlock = await client.getBlockNumber({ cacheTime: 0 });
  const heads = [];
  const events = [];
  let subError;
  const unwatchBlocks = ws.watchBlocks({
    poll: false,
    onBlock: (b) => heads.push(b),
    onError: (e) => (subError ??= e),
  });
  const unwatchEvents = ws.watchContractEvent({
    ...counter,
    eventName: "Incremented",
    poll: false,
    onLogs: (logs) => events.push(...logs),
    onError: (e) => (subError ??= e),
  });
  await check("ws: eth_subscribe newHeads + logs", async () => {
    await waitFor(() => subscriptions.length >= 2 || subError, "eth_subscribe requests");
    const kinds = await Promise.all(subscriptions);
    if (subError) fail(`subscription error: ${subError.shortMessage ?? subError.message}`);
    return kinds.join(", ");
  });
  const expected = (await client.readContract({ ...counter, functionName: "count" })) + 1n;
  const hash = await check("ws: send increment() after subscribing", () =>
    wallet.writeContract({ ...counter, functionName: "increment" }),
  );
  const receipt = await check("ws: receipt of that increment", async () => {
    const r = await waitReceipt(client, hash, "increment #3");
    expect(r.status === "success", `status ${r.status}`);
    return r;
  });
  await check("ws: watchBlocks saw the new block (newHeads)", async () => {
    await waitFor(
      () => subError || heads.some((b) => b.number === receipt.blockNumber),
      `newHeads for block #${receipt.blockNumber}`,
    );
    if (subError) fail(`newHeads error: ${subError.shortMessage ?? subError.message}`);
    const b = heads.find((b) => b.number === receipt.blockNumber);
    expect(b.hash === receipt.blockHash, `newHeads #${b.number} hash ${b.hash} != receipt ${receipt.blockHash}`);
    expect(heads.every((h) => h.number > startBlock), `newHeads delivered an old block`);
    return `${heads.length} head(s)`;
  });
  await check("ws: watchContractEvent saw Incremented (logs)", async () => {
    await waitFor(() => subError || events.some((l) => l.transactionHash === hash), `logs subscription for ${hash}`);
    if (subError) fail(`logs subscription error: ${subError.shortMessage ?? subError.message}`);
    const l = events.find((l) => l.transactionHash === hash);
    expect(l.args.newCount === expected, `event newCount ${l.args.newCount} != ${expected}`);
    expect(l.args.by.toLowerCase() === account.address.toLowerCase(), `event by ${l.args.by}`);
    expect(l.blockHash === receipt.blockHash, `event blockHash differs from receipt`);
  });
  unwatchBlocks();
  unwatchEvents();
  await new Promise((r) => setTimeout(r, 50)); // let eth_unsubscribe go out
  try {
    (await ws.transport.getRpcClient()).close();
  } catch {}
}

main().then(
  () => finish(true),
  (e) => {
    const msg =
      e instanceof StepTimeout || !e?.shortMessage
        ? (e?.message ?? String(e))
        : e.shortMessage + (e.details ? ` (${e.details})` : "");
    console.error(`FAIL ${current}: ${msg}`);
    if (process.env.WALLET_DEBUG && e?.stack) console.error(e.stack);
    finish(false, msg);
  },
);
