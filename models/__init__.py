"""The shipped collectclf models (package data)."""
