"""Use cases of fast testing (快检测), one module per concept: campaigns, sampling, results, follow-up, metrics."""
