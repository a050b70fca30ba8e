"""The connector's runtime: connection, documents, descriptors catalogue and host harness."""
