"""Privacy controls applied to what leaves the warehouse: k-anonymity, small-cell masking,
privacy settings. See docs/PRIVACY.md."""
