"""Closed-loop referrals: patients, consent, needs, referrals and their workflow, notifications."""
