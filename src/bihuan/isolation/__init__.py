"""Fast isolation (快隔离): central quarantine sites and designated hospitals, their rooms and capacity."""
