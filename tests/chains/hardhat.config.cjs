// The project's Hardhat config (../../hardhat.config.cjs) plus one fix, for tests/chains.
//
// Hardhat's node answers `eth_mining` with a hard-coded `false` even though it mines every
// transaction at once. Ape's generic node provider (ape_node, Ape 0.8.51) reads that as manual
// mining and, instead of fetching receipts, makes up pending ones with no block and no contract
// address: every `deploy` then fails with "did not create a contract". Answering `true`, as Anvil
// does, tells Ape the truth about an automining node.
const { extendProvider } = require("hardhat/config");
const { ProviderWrapper } = require("hardhat/plugins");

class AutomineAnswersMining extends ProviderWrapper {
  async request(args) {
    if (args.method === "eth_mining") return true;
    return this._wrappedProvider.request(args);
  }
}

extendProvider(async (provider) => new AutomineAnswersMining(provider));

module.exports = require("../../hardhat.config.cjs");
