// A Hardhat 2 node for TrustMall, reached from Ape through its generic node provider
// (`--network ethereum:local:node`). Ape's local network expects chain id 1337.
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
