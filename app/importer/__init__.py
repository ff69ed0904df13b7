"""Bulk import of a maker's history from its previous system (issue 15, item 7): `python -m app.importer`."""
