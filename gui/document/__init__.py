"""The document room: open/save, project state, recent files and export."""
