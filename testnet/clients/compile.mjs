#!/usr/bin/env node
// Compiles contracts/Counter.sol into artifacts/Counter.json (abi + bytecode)
// with the solc-js that the repo already installs in contracts/node_modules
// (solc 0.8.30, evmVersion prague, optimizer on). The artifact is committed,
// so wallet.mjs needs no compiler.
//
//   node compile.mjs           write artifacts/Counter.json
//   node compile.mjs --check   exit 1 if the committed artifact differs
//
// SOLC_JS=/path/to/node_modules/solc overrides where solc-js is loaded from.
import { createRequire } from "node:module";
import { readFileSync, writeFileSync, mkdirSync, existsSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const SOLC_VERSION = "0.8.30";
const solcPath = process.env.SOLC_JS ?? resolve(here, "../../contracts/node_modules/solc");
const check = process.argv.includes("--check");

function die(msg) {
  console.error(`compile.mjs: ${msg}`);
  process.exit(1);
}

if (!existsSync(solcPath)) {
  die(`solc-js not found at ${solcPath} (run npm ci in contracts/, or set SOLC_JS)`);
}
const require = createRequire(import.meta.url);
const solc = require(solcPath);
const version = solc.version();
if (!version.startsWith(SOLC_VERSION + "+")) {
  die(`expected solc ${SOLC_VERSION}, got ${version}`);
}

const sourceName = "contracts/Counter.sol";
const contractName = "Counter";
const settings = {
  evmVersion: "prague",
  optimizer: { enabled: true, runs: 200 },
  outputSelection: { "*": { "*": ["abi", "evm.bytecode.object", "evm.deployedBytecode.object"] } },
};
const input = {
  language: "Solidity",
  sources: { [sourceName]: { content: readFileSync(join(here, sourceName), "utf8") } },
  settings,
};
const output = JSON.parse(solc.compile(JSON.stringify(input)));
const errors = (output.errors ?? []).filter((e) => e.severity === "error");
for (const e of output.errors ?? []) console.error(e.formattedMessage ?? e.message);
if (errors.length > 0) die("compilation failed");

const c = output.contracts[sourceName][contractName];
const artifact = {
  contractName,
  sourceName,
  compiler: { name: "solc", version },
  settings: { evmVersion: settings.evmVersion, optimizer: settings.optimizer },
  abi: c.abi,
  bytecode: "0x" + c.evm.bytecode.object,
  deployedBytecode: "0x" + c.evm.deployedBytecode.object,
};
const text = JSON.stringify(artifact, null, 2) + "\n";
const outPath = join(here, "artifacts", `${contractName}.json`);

if (check) {
  const current = existsSync(outPath) ? readFileSync(outPath, "utf8") : "";
  if (current !== text) die(`${outPath} is stale: run \`node compile.mjs\` and commit it`);
  console.log(`compile.mjs: ${outPath} is up to date (solc ${version})`);
} else {
  mkdirSync(dirname(outPath), { recursive: true });
  writeFileSync(outPath, text);
  console.log(`compile.mjs: wrote ${outPath} (solc ${version})`);
}
