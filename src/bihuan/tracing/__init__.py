"""Fast tracing (快流调): investigations, the contact engine, transmission chains."""
