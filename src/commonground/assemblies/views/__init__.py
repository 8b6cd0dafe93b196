"""Pages of the assemblies app."""
