"""What a user opens and keeps: the .convscope project file, and the paths that resolve to a project."""
