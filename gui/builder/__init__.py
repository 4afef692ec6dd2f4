"""The builder room: palette, canvas, blocks, inspector, field editors, summary, undo and the edit lock."""
