#!/usr/bin/env node
// Compiles every Solidity source under <root>/src with the pinned solc from npm and
// writes one artifact per deployable contract to <root>/artifacts/<ContractName>.json.
// <root> is this folder (Vigil's own contracts) unless --root names another tree (the
// detection corpus: --root ../crates/corpus/contracts); one script, one pinned solc.
//
//   node build.mjs [--root DIR]           rebuild artifacts/ (stale artifacts are removed)
//   node build.mjs [--root DIR] --check   rebuild into a temporary directory and exit 1 if
//                                         anything differs from the committed artifacts/ (CI)
//
// Any compiler warning fails the build: the sources are kept warning-free.

import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import solc from "solc";

const SOLC_VERSION = "0.8.30";
const EVM_VERSION = "prague";
const OPTIMIZER_RUNS = 200;

const rootArg = process.argv.indexOf("--root");
const root =
  rootArg >= 0 && process.argv[rootArg + 1]
    ? path.resolve(process.argv[rootArg + 1])
    : path.dirname(fileURLToPath(import.meta.url));
const srcDir = path.join(root, "src");
const artifactsDir = path.join(root, "artifacts");

function listSources(dir) {
  const out = [];
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) out.push(...listSources(full));
    else if (entry.name.endsWith(".sol")) out.push(full);
  }
  return out;
}

function compile() {
  const loaded = solc.version();
  if (!loaded.startsWith(`${SOLC_VERSION}+`)) {
    throw new Error(`solc ${loaded} is installed, ${SOLC_VERSION} is pinned: run npm ci`);
  }
  const sources = {};
  for (const file of listSources(srcDir).sort()) {
    const key = path.relative(root, file).split(path.sep).join("/");
    sources[key] = { content: fs.readFileSync(file, "utf8") };
  }
  const input = {
    language: "Solidity",
    sources,
    settings: {
      evmVersion: EVM_VERSION,
      optimizer: { enabled: true, runs: OPTIMIZER_RUNS },
      outputSelection: {
        "*": {
          "": ["ast"],
          "*": ["abi", "evm.bytecode.object", "evm.deployedBytecode.object"],
        },
      },
    },
  };
  const output = JSON.parse(solc.compile(JSON.stringify(input)));
  const problems = (output.errors ?? []).filter((e) => e.severity !== "info");
  for (const p of problems) process.stderr.write(`${p.formattedMessage}\n`);
  if (problems.length > 0) {
    const errors = problems.filter((p) => p.severity === "error").length;
    throw new Error(`${errors} error(s), ${problems.length - errors} warning(s)`);
  }

  const kinds = new Map();
  for (const [file, { ast }] of Object.entries(output.sources)) {
    for (const node of ast.nodes) {
      if (node.nodeType === "ContractDefinition") kinds.set(`${file}:${node.name}`, node);
    }
  }

  const artifacts = new Map();
  for (const file of Object.keys(output.contracts).sort()) {
    for (const name of Object.keys(output.contracts[file]).sort()) {
      const node = kinds.get(`${file}:${name}`);
      if (node.contractKind !== "contract" || node.abstract) continue;
      if (artifacts.has(name)) throw new Error(`contract name ${name} is defined twice`);
      const c = output.contracts[file][name];
      const artifact = {
        contractName: name,
        abi: c.abi,
        bytecode: `0x${c.evm.bytecode.object}`,
        deployedBytecode: `0x${c.evm.deployedBytecode.object}`,
      };
      artifacts.set(name, `${JSON.stringify(artifact, null, 2)}\n`);
    }
  }
  return artifacts;
}

function write(dir, artifacts) {
  fs.mkdirSync(dir, { recursive: true });
  for (const [name, text] of artifacts) fs.writeFileSync(path.join(dir, `${name}.json`), text);
}

function main() {
  const check = process.argv.includes("--check");
  const artifacts = compile();
  if (!check) {
    fs.mkdirSync(artifactsDir, { recursive: true });
    for (const f of fs.readdirSync(artifactsDir)) {
      if (f.endsWith(".json") && !artifacts.has(f.slice(0, -5))) fs.rmSync(path.join(artifactsDir, f));
    }
    write(artifactsDir, artifacts);
    console.log(`wrote ${artifacts.size} artifacts to ${path.relative(process.cwd(), artifactsDir) || "."}`);
    return;
  }

  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "vigil-solc-"));
  try {
    write(tmp, artifacts);
    const committed = fs.existsSync(artifactsDir)
      ? fs.readdirSync(artifactsDir).filter((f) => f.endsWith(".json"))
      : [];
    const names = new Set([...committed, ...[...artifacts.keys()].map((n) => `${n}.json`)]);
    const differing = [];
    for (const f of [...names].sort()) {
      const a = path.join(artifactsDir, f);
      const b = path.join(tmp, f);
      if (!fs.existsSync(a)) differing.push(`${f} (missing from artifacts/)`);
      else if (!fs.existsSync(b)) differing.push(`${f} (stale: no such contract in src/)`);
      else if (!fs.readFileSync(a).equals(fs.readFileSync(b))) differing.push(`${f} (differs)`);
    }
    if (differing.length > 0) {
      console.error(`artifacts are out of date; run \`node build.mjs\`:\n  ${differing.join("\n  ")}`);
      process.exitCode = 1;
    } else {
      console.log(`${artifacts.size} artifacts match the sources`);
    }
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}

try {
  main();
} catch (err) {
  console.error(`build failed: ${err.message}`);
  process.exitCode = 1;
}
