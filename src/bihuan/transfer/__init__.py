"""Fast transfer (快转运): vehicles, site assignment and routing, dispatch tracking."""
