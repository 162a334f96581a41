"""Use cases of fast tracing (快流调): investigations, contacts, chains; the only code that changes its tables."""
