"""The shipped JSON descriptors and the meta-schema they follow (data only)."""
