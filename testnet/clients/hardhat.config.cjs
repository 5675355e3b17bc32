// Minimal Hardhat 2 config: used only for `npx hardhat node`, a reference
// JSON-RPC endpoint to run wallet.mjs against. Nothing here is compiled by
// Hardhat (the Counter artifact is built by compile.mjs with the solc that
// the repo already has), so no compiler is ever downloaded.
//
// Start it offline with:
//   HARDHAT_DISABLE_TELEMETRY_PROMPT=true npx hardhat node --hostname 127.0.0.1 --port 8545
/** @type {import('hardhat/config').HardhatUserConfig} */
module.exports = {
  defaultNetwork: "hardhat",
  networks: {
    hardhat: {
      chainId: 31337,
      hardfork: "prague",
      // default accounts: the well-known "test test ... junk" mnemonic,
      // 20 accounts with 10000 ETH each.
      mining: { auto: true, interval: 0 },
    },
  },
  // Keep Hardhat's own output away from our committed artifacts/.
  paths: {
    sources: "./contracts",
    artifacts: "./.hardhat/artifacts",
    cache: "./.hardhat/cache",
  },
};
