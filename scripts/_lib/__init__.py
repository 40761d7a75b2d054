"""Helpers of the Ape scripts and the demo, hidden from `ape run` by the underscore. Modules that
touch the chain import Ape inside functions, so they load without a connected provider."""
