"""Merchants' door to the service: Sign-In with Ethereum sessions (EIP-4361), and webhooks back
(Stripe-style signed deliveries of the events the index sees on a merchant's orders, reports and
items, retried for three days, with a delivery log and replay)."""
