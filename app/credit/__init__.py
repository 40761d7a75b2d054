"""Credit reports from bureaus: kept encrypted, attested (EIP-712) for the borrower to submit."""
