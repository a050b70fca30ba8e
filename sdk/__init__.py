"""Tooling for developers of the connector and its activities: exports, documentation,
the activity test kit, IAM policies, scaffolding and the embedded S3 server. The runtime
(`s3_connector.connector`) never imports it."""
