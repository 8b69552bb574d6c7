"""Synthetic history for demos and benchmarks: patients, needs, referrals, searches."""
