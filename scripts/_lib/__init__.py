"""Helpers shared by the Ape scripts (`ape run deploy`, `ape run merchant`) and the demo.

Private to Ape's script runner (the leading underscore hides it from `ape run`); import it as
``scripts._lib.<module>`` with the project root on ``sys.path``. Modules that touch the chain
import Ape lazily, inside functions, so the file formats here load without a connected provider.
"""
