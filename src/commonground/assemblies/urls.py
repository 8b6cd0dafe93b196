"""URLs of the assemblies app."""

app_name = "assemblies"

urlpatterns: list = []
