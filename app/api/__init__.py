"""HTTP plumbing shared by the routers: errors with machine-readable codes, dependencies."""
