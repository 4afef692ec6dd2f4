"""Qt user interface: windows, panels and live views (PySide6 + pyqtgraph)."""
