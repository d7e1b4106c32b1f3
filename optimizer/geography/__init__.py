"""Offline geography: county gazetteer, address resolution, road network, distance providers."""
