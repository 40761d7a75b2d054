// A Hardhat 2 node for TrustMall, reached from Ape through its generic node provider
// (`--network ethereum:local:node`, `make hardhat-node`). Ape's local network expects chain id 1337.
const { extendProvider } = require("hardhat/config");
const { ProviderWrapper } = require("hardhat/plugins");

// Hardhat's node answers `eth_mining` with a hard-coded `false` although it mines every
// transaction at once. Ape's node provider (Ape 0.8.51) reads that as manual mining and makes up
// pending receipts with no block and no contract address, so every deploy fails with "did not
// create a contract". Answering `true`, as Anvil does, tells Ape the truth about an automining node.
class AutomineAnswersMining extends ProviderWrapper {
  async request(args) {
    if (args.method === "eth_mining") return true;
    return this._wrappedProvider.request(args);
  }
}

extendProvider(async (provider) => new AutomineAnswersMining(provider));

/** @type import('hardhat/config').HardhatUserConfig */
module.exports = {
  networks: {
    hardhat: {
      chainId: 1337,
      hardfork: "cancun",
      accounts: { mnemonic: "test test test test test test test test test test test junk" },
    },
  },
};
