"""The wire: canonical JSON, keys, envelopes, receipts, the Merkle log. Pure functions."""
