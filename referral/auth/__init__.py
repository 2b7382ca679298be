"""Sign-in with a mandatory second factor, server-side sessions, own account pages."""
