"""Use cases of fast transfer (快转运): the only code that changes the vehicles, plans and batches tables."""
