"""`braid serve`: a JSON API and a search page over one open engine."""
