"""Bundled scenario folders and generators of realistic seasons."""
