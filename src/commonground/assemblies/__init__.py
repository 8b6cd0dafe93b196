"""The assemblies app: citizens' and members' assemblies drawn by fair sortition
(``commonground.engines.sortition``), from recruiting the pool to the panel's
published recommendations."""
