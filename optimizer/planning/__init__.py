"""The planner's stages (see optimizer.solve, which wires them)."""
