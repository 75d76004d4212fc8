"""Checks on the wording of Din plan: complete catalogs, spelling, written standard, readability."""
