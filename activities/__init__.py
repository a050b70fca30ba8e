"""The shipped activities: one module and one class each, described in `descriptors/`."""
