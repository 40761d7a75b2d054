"""Carriers' and bureaus' endpoints: API key + HMAC-signed requests, validation, idempotency,
rate limits; accepted records go to the outbox (``app.outbox``) in the same transaction."""
