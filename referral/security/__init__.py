"""Security primitives: policy, passwords, TOTP, sessions, headers, encryption."""
