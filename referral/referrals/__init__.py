"""The one referral engine: consents, consent-gated referrals, deadlines and queues.

Used by GBV cases and by victim assistance; see ``source.py`` for what a source provides.
"""
