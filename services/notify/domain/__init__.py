"""Pure notification rules: no database, no network, no clock reads."""
