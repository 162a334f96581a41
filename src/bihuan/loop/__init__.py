"""量化闭环: every person's way through the five-link loop, read from the event log (it only reads)."""
