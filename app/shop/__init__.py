"""What shoppers read: item verdicts, merchants, orders and disputes (JSON), the verify page."""
