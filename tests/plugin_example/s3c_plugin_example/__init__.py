"""An example plugin package for s3-connector."""
