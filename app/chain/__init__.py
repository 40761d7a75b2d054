"""The service's view of the chain: web3.py and eth-account only, from abi/ and deployments/."""
