"""Institution registry forms: parsing and the form rules."""
