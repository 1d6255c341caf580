"""Rule files (medspaCy JSON formats), shipped inside the package as extractor.patterns."""
