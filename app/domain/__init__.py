"""Pure domain helpers (no chain, no Ape): item ids, GS1 identifiers, Merkle batches."""
