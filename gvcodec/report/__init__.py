"""Everything a person reads: HM log lines and SUMMARY, progress, statistics files."""
