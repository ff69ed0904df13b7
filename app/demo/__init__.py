"""`make demo`: fill the embedded default with a few realistic months, through the real API."""
