"""Service directory: administrative areas and the services offered in them."""
