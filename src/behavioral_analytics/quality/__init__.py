"""Data quality: Great Expectations suites run against the built warehouse."""
