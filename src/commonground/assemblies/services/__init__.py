"""What the assemblies app does (views and tasks call these; they import neither)."""
