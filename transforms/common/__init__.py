"""Pure helpers every line uses: text and UTF-8 fast paths, dates and working days, check digits, code tables, masking."""
