"""Folium maps of plans. Functions return folium objects and never write files."""
