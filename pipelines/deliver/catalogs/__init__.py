"""Translation catalogs of the retention team's deliverable: one module per language.

Each module defines the same dictionaries (a test keeps their keys and placeholders equal):
`REASONS` (reason templates by key), `NOUNS` (singular, plural), `TIERS`, `SEGMENTS`,
`ACTIONS`, `COLUMNS` (headers), `REPORT` (report and workbook labels), `GROUPS` (reason group
names) and `NUMBER` (decimal and thousands separators, date format).
"""
