"""Placeholder until the redaction layer lands."""


def redact(text: str) -> str:
    return text
