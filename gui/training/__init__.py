"""The training room: the session, its controller, the panel, the form, dataset loading and the live views."""
