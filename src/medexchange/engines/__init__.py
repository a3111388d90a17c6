"""Pure-Python engines: no Django imports anywhere below this package."""
