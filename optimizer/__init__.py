"""chunyun's pure core: domain objects, geography, and the charter planner.

Imports nothing from api/, maps/ or scenarios/, and no web, SQL or mapping library.
"""
