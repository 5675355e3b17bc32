#!/usr/bin/env node
// Writes artifacts/<package>/<Contract>.json for every genuine protocol contract the
// corpus's real-protocol world deploys or calls, taken AS SHIPPED from the npm packages
// pinned in package-lock.json (Balancer v2, which ships sources only, compiled from them
// with Balancer's own solc version and settings), plus the contracts compiled here: src/*.sol (concrete
// OpenZeppelin compositions written the way the OpenZeppelin Wizard writes them, and the
// bots' own contracts) with the pinned solc 0.8.30.
//
//   node extract.mjs           rewrite artifacts/ (stale artifacts are removed)
//   node extract.mjs --check   regenerate into a temporary directory and exit 1 naming any
//                              artifact that differs from the committed artifacts/ (CI)
//
// Each artifact: {package, version, source, contractName, abi, bytecode, deployedBytecode,
// linkReferences} (+ compiler for the ones compiled here), two-space JSON, stable key order,
// so a rerun is byte-identical. `source` is the file inside the package the artifact was
// read from (or, for compiled ones, the Solidity file). `linkReferences` are the creation
// code's library placeholders, `{ "<file>": { "<Library>": [{start, length}] } }`, offsets
// in bytes: the world deploys the libraries and patches them in.

import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import solc from "solc";
import solc071 from "solc-0.7.1";

const here = path.dirname(fileURLToPath(import.meta.url));
const modules = path.join(here, "node_modules");

const SOLC_VERSION = "0.8.30";
const EVM_VERSION = "prague";
const OPTIMIZER_RUNS = 200;
// EIP-170: revm refuses to deploy runtime code larger than this.
const MAX_CODE_SIZE = 24576;

// [short name, npm package, [[contract, path of its artifact inside the package]]].
const SHIPPED = [
  [
    "uniswap-v2-core",
    "@uniswap/v2-core",
    [
      ["UniswapV2Factory", "build/UniswapV2Factory.json"],
      ["UniswapV2Pair", "build/UniswapV2Pair.json"],
    ],
  ],
  [
    "uniswap-v2-periphery",
    "@uniswap/v2-periphery",
    [
      ["UniswapV2Router02", "build/UniswapV2Router02.json"],
      ["WETH9", "build/WETH9.json"],
    ],
  ],
  [
    "uniswap-v3-core",
    "@uniswap/v3-core",
    [
      ["UniswapV3Factory", "artifacts/contracts/UniswapV3Factory.sol/UniswapV3Factory.json"],
      ["UniswapV3Pool", "artifacts/contracts/UniswapV3Pool.sol/UniswapV3Pool.json"],
    ],
  ],
  [
    "uniswap-v3-periphery",
    "@uniswap/v3-periphery",
    [
      ["SwapRouter", "artifacts/contracts/SwapRouter.sol/SwapRouter.json"],
      [
        "NonfungiblePositionManager",
        "artifacts/contracts/NonfungiblePositionManager.sol/NonfungiblePositionManager.json",
      ],
      ["QuoterV2", "artifacts/contracts/lens/QuoterV2.sol/QuoterV2.json"],
    ],
  ],
  [
    "universal-router",
    "@uniswap/universal-router",
    [["UniversalRouter", "artifacts/contracts/UniversalRouter.sol/UniversalRouter.json"]],
  ],
  [
    "aave-core-v3",
    "@aave/core-v3",
    [
      [
        "PoolAddressesProvider",
        "artifacts/contracts/protocol/configuration/PoolAddressesProvider.sol/PoolAddressesProvider.json",
      ],
      ["ACLManager", "artifacts/contracts/protocol/configuration/ACLManager.sol/ACLManager.json"],
      ["Pool", "artifacts/contracts/protocol/pool/Pool.sol/Pool.json"],
      ["PoolConfigurator", "artifacts/contracts/protocol/pool/PoolConfigurator.sol/PoolConfigurator.json"],
      ["AaveOracle", "artifacts/contracts/misc/AaveOracle.sol/AaveOracle.json"],
      [
        "AaveProtocolDataProvider",
        "artifacts/contracts/misc/AaveProtocolDataProvider.sol/AaveProtocolDataProvider.json",
      ],
      ["AToken", "artifacts/contracts/protocol/tokenization/AToken.sol/AToken.json"],
      ["VariableDebtToken", "artifacts/contracts/protocol/tokenization/VariableDebtToken.sol/VariableDebtToken.json"],
      ["StableDebtToken", "artifacts/contracts/protocol/tokenization/StableDebtToken.sol/StableDebtToken.json"],
      [
        "DefaultReserveInterestRateStrategy",
        "artifacts/contracts/protocol/pool/DefaultReserveInterestRateStrategy.sol/DefaultReserveInterestRateStrategy.json",
      ],
      ["MockAggregator", "artifacts/contracts/mocks/oracle/CLAggregators/MockAggregator.sol/MockAggregator.json"],
      ["SupplyLogic", "artifacts/contracts/protocol/libraries/logic/SupplyLogic.sol/SupplyLogic.json"],
      ["BorrowLogic", "artifacts/contracts/protocol/libraries/logic/BorrowLogic.sol/BorrowLogic.json"],
      ["LiquidationLogic", "artifacts/contracts/protocol/libraries/logic/LiquidationLogic.sol/LiquidationLogic.json"],
      ["FlashLoanLogic", "artifacts/contracts/protocol/libraries/logic/FlashLoanLogic.sol/FlashLoanLogic.json"],
      ["PoolLogic", "artifacts/contracts/protocol/libraries/logic/PoolLogic.sol/PoolLogic.json"],
      ["EModeLogic", "artifacts/contracts/protocol/libraries/logic/EModeLogic.sol/EModeLogic.json"],
      ["BridgeLogic", "artifacts/contracts/protocol/libraries/logic/BridgeLogic.sol/BridgeLogic.json"],
      [
        "ConfiguratorLogic",
        "artifacts/contracts/protocol/libraries/logic/ConfiguratorLogic.sol/ConfiguratorLogic.json",
      ],
    ],
  ],
  [
    "safe-contracts",
    "@safe-global/safe-contracts",
    [
      ["SafeL2", "build/artifacts/contracts/SafeL2.sol/SafeL2.json"],
      ["SafeProxyFactory", "build/artifacts/contracts/proxies/SafeProxyFactory.sol/SafeProxyFactory.json"],
      ["MultiSend", "build/artifacts/contracts/libraries/MultiSend.sol/MultiSend.json"],
      ["MultiSendCallOnly", "build/artifacts/contracts/libraries/MultiSendCallOnly.sol/MultiSendCallOnly.json"],
      [
        "CompatibilityFallbackHandler",
        "build/artifacts/contracts/handler/CompatibilityFallbackHandler.sol/CompatibilityFallbackHandler.json",
      ],
    ],
  ],
  ["merkle-distributor", "@uniswap/merkle-distributor", [["MerkleDistributor", "build/MerkleDistributor.json"]]],
  [
    "contracts-bedrock",
    "@eth-optimism/contracts-bedrock",
    [
      ["OptimismPortal", "forge-artifacts/OptimismPortal.sol/OptimismPortal.json"],
      ["L2OutputOracle", "forge-artifacts/L2OutputOracle.sol/L2OutputOracle.json"],
      ["SystemConfig", "forge-artifacts/SystemConfig.sol/SystemConfig.json"],
      ["SuperchainConfig", "forge-artifacts/SuperchainConfig.sol/SuperchainConfig.json"],
      ["Proxy", "forge-artifacts/Proxy.sol/Proxy.json"],
    ],
  ],
  [
    "openzeppelin",
    "@openzeppelin/contracts",
    [["TimelockController", "build/contracts/TimelockController.json"]],
  ],
];

// Balancer v2 ships sources only: they are compiled here with solc 0.7.1 (npm `solc-0.7.1`,
// an alias of solc@0.7.1) and the settings of Balancer's monorepo
// (pvt/common/hardhat-base-config.ts): optimizer 9999 runs, Vault.sol 500 runs, default EVM
// version (istanbul). [short name, package, source in the package, runs, contracts kept].
const BALANCER_SOLC = "0.7.1";
const BALANCER = [
  ["balancer-v2", "@balancer-labs/v2-vault", "contracts/Vault.sol", 500, ["Vault"]],
  ["balancer-v2", "@balancer-labs/v2-vault", "contracts/Authorizer.sol", 9999, ["Authorizer"]],
  [
    "balancer-v2",
    "@balancer-labs/v2-pool-weighted",
    "contracts/WeightedPoolFactory.sol",
    9999,
    ["WeightedPoolFactory"],
  ],
  ["balancer-v2", "@balancer-labs/v2-pool-weighted", "contracts/WeightedPool.sol", 9999, ["WeightedPool"]],
];

// Sources compiled here: src/<file> -> artifacts/<short name>/<Contract>.json.
// The OpenZeppelin compositions are filed under the package whose code they are.
const COMPILED = [
  ["openzeppelin", "@openzeppelin/contracts", "src/OzCompositions.sol"],
  ["bots", null, "src/Bots.sol"],
];

function packageVersion(pkg) {
  return JSON.parse(fs.readFileSync(path.join(modules, pkg, "package.json"), "utf8")).version;
}

function hex(x) {
  if (typeof x !== "string") throw new Error("bytecode is not a string");
  return x.startsWith("0x") ? x : `0x${x}`;
}

function artifactText(fields) {
  return `${JSON.stringify(fields, null, 2)}\n`;
}

function checkSize(name, deployed) {
  const size = (deployed.length - 2) / 2;
  if (size > MAX_CODE_SIZE) {
    console.warn(`warning: ${name}'s runtime code is ${size} bytes, over EIP-170's ${MAX_CODE_SIZE}`);
  }
}

function shipped() {
  const out = new Map();
  for (const [short, pkg, contracts] of SHIPPED) {
    const version = packageVersion(pkg);
    for (const [name, file] of contracts) {
      const j = JSON.parse(fs.readFileSync(path.join(modules, pkg, file), "utf8"));
      // Hardhat artifacts have top-level bytecode strings; Waffle's builds nest them in `evm`;
      // Forge's have `{object, linkReferences}` objects.
      const bytecode = hex(j.evm?.bytecode?.object ?? j.bytecode?.object ?? j.bytecode);
      const deployed = hex(j.evm?.deployedBytecode?.object ?? j.deployedBytecode?.object ?? j.deployedBytecode);
      const linkReferences = j.linkReferences ?? j.evm?.bytecode?.linkReferences ?? j.bytecode?.linkReferences ?? {};
      checkSize(name, deployed);
      out.set(
        `${short}/${name}.json`,
        artifactText({
          package: pkg,
          version,
          source: file,
          contractName: name,
          abi: j.abi,
          bytecode,
          deployedBytecode: deployed,
          linkReferences,
        }),
      );
    }
  }
  return out;
}

function findImport(p) {
  for (const base of [here, modules]) {
    const f = path.join(base, p);
    if (fs.existsSync(f)) return { contents: fs.readFileSync(f, "utf8") };
  }
  return { error: `not found: ${p}` };
}

function compiled() {
  const loaded = solc.version();
  if (!loaded.startsWith(`${SOLC_VERSION}+`)) {
    throw new Error(`solc ${loaded} is installed, ${SOLC_VERSION} is pinned: run npm ci`);
  }
  const sources = {};
  for (const [, , file] of COMPILED) sources[file] = { content: fs.readFileSync(path.join(here, file), "utf8") };
  const input = {
    language: "Solidity",
    sources,
    settings: {
      evmVersion: EVM_VERSION,
      optimizer: { enabled: true, runs: OPTIMIZER_RUNS },
      outputSelection: {
        "*": {
          "": ["ast"],
          "*": ["abi", "evm.bytecode.object", "evm.bytecode.linkReferences", "evm.deployedBytecode.object"],
        },
      },
    },
  };
  const output = JSON.parse(solc.compile(JSON.stringify(input), { import: findImport }));
  const problems = (output.errors ?? []).filter((e) => e.severity !== "info");
  for (const p of problems) process.stderr.write(`${p.formattedMessage}\n`);
  if (problems.length > 0) {
    const errors = problems.filter((p) => p.severity === "error").length;
    throw new Error(`${errors} error(s), ${problems.length - errors} warning(s)`);
  }
  const out = new Map();
  for (const [short, pkg, file] of COMPILED) {
    const concrete = output.sources[file].ast.nodes.filter(
      (n) => n.nodeType === "ContractDefinition" && n.contractKind === "contract" && !n.abstract,
    );
    for (const node of concrete) {
      const c = output.contracts[file][node.name];
      const deployed = `0x${c.evm.deployedBytecode.object}`;
      checkSize(node.name, deployed);
      out.set(
        `${short}/${node.name}.json`,
        artifactText({
          package: pkg ?? "vigil-corpus-protocols",
          version: pkg ? packageVersion(pkg) : "0.0.0",
          source: file,
          contractName: node.name,
          compiler: `solc ${SOLC_VERSION}, optimizer ${OPTIMIZER_RUNS} runs, evm ${EVM_VERSION}`,
          abi: c.abi,
          bytecode: `0x${c.evm.bytecode.object}`,
          deployedBytecode: deployed,
          linkReferences: c.evm.bytecode.linkReferences ?? {},
        }),
      );
    }
  }
  return out;
}

function fromModules(p) {
  const f = path.join(modules, p);
  return fs.existsSync(f) ? { contents: fs.readFileSync(f, "utf8") } : { error: `not found: ${p}` };
}

function balancer() {
  const loaded = solc071.version();
  if (!loaded.startsWith(`${BALANCER_SOLC}+`)) {
    throw new Error(`solc ${loaded} is installed as solc-0.7.1, ${BALANCER_SOLC} is pinned: run npm ci`);
  }
  const out = new Map();
  for (const [short, pkg, file, runs, keep] of BALANCER) {
    const key = `${pkg}/${file}`;
    const input = {
      language: "Solidity",
      sources: { [key]: { content: fs.readFileSync(path.join(modules, key), "utf8") } },
      settings: {
        optimizer: { enabled: true, runs },
        outputSelection: { "*": { "*": ["abi", "evm.bytecode.object", "evm.deployedBytecode.object"] } },
      },
    };
    const output = JSON.parse(solc071.compile(JSON.stringify(input), { import: fromModules }));
    const errors = (output.errors ?? []).filter((e) => e.severity === "error");
    for (const e of errors) process.stderr.write(`${e.formattedMessage}\n`);
    if (errors.length > 0) throw new Error(`${key}: ${errors.length} error(s)`);
    for (const name of keep) {
      const c = output.contracts[key][name];
      const deployed = `0x${c.evm.deployedBytecode.object}`;
      checkSize(name, deployed);
      out.set(
        `${short}/${name}.json`,
        artifactText({
          package: pkg,
          version: packageVersion(pkg),
          source: file,
          contractName: name,
          compiler: `solc ${BALANCER_SOLC}, optimizer ${runs} runs, evm istanbul (default)`,
          abi: c.abi,
          bytecode: `0x${c.evm.bytecode.object}`,
          deployedBytecode: deployed,
          linkReferences: {},
        }),
      );
    }
  }
  return out;
}

function listJson(dir) {
  if (!fs.existsSync(dir)) return [];
  const out = [];
  for (const sub of fs.readdirSync(dir, { withFileTypes: true })) {
    if (!sub.isDirectory()) continue;
    for (const f of fs.readdirSync(path.join(dir, sub.name))) if (f.endsWith(".json")) out.push(`${sub.name}/${f}`);
  }
  return out;
}

function write(dir, artifacts) {
  for (const [rel, text] of artifacts) {
    fs.mkdirSync(path.dirname(path.join(dir, rel)), { recursive: true });
    fs.writeFileSync(path.join(dir, rel), text);
  }
}

function main() {
  const check = process.argv.includes("--check");
  const artifacts = new Map([...shipped(), ...balancer(), ...compiled()]);
  const dir = path.join(here, "artifacts");
  if (!check) {
    for (const rel of listJson(dir)) if (!artifacts.has(rel)) fs.rmSync(path.join(dir, rel));
    write(dir, artifacts);
    console.log(`wrote ${artifacts.size} artifacts to ${path.relative(process.cwd(), dir) || "."}`);
    return;
  }
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "vigil-protocols-"));
  try {
    write(tmp, artifacts);
    const names = new Set([...listJson(dir), ...artifacts.keys()]);
    const differing = [];
    for (const rel of [...names].sort()) {
      const a = path.join(dir, rel);
      const b = path.join(tmp, rel);
      if (!fs.existsSync(a)) differing.push(`${rel} (missing from artifacts/)`);
      else if (!fs.existsSync(b)) differing.push(`${rel} (stale: not extracted any more)`);
      else if (!fs.readFileSync(a).equals(fs.readFileSync(b))) differing.push(`${rel} (differs)`);
    }
    if (differing.length > 0) {
      console.error(`artifacts are out of date; run \`node extract.mjs\`:\n  ${differing.join("\n  ")}`);
      process.exitCode = 1;
    } else {
      console.log(`${artifacts.size} artifacts match the pinned packages`);
    }
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}

try {
  main();
} catch (err) {
  console.error(`extract failed: ${err.message}`);
  process.exitCode = 1;
}
