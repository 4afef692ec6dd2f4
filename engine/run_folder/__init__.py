"""The live run folder: an append-only event log, weight-snapshot sidecars and a control file (docs/run-folder.md)."""

from engine.run_folder.control_file import ControlFileWatcher, write_command
from engine.run_folder.layout import (COMMANDS, CONTROL, EVENTS, FORMAT, SNAPSHOTS, VERSION, RunFolderError,
                                      snapshot_path)
from engine.run_folder.reader import EventTail, RunLog, newest_snapshot, read_run_log, recover_unfinished
from engine.run_folder.recording import recorded_snapshot
from engine.run_folder.sidecar import snapshot_tensors
from engine.run_folder.run_writer import RunWriter, RunWriterError
from engine.run_folder.writer import RunFolderWriter

__all__ = ["COMMANDS", "CONTROL", "EVENTS", "FORMAT", "SNAPSHOTS", "VERSION", "ControlFileWatcher", "EventTail",
           "RunFolderError", "RunFolderWriter", "RunLog", "RunWriter", "RunWriterError", "newest_snapshot",
           "read_run_log", "recorded_snapshot", "recover_unfinished", "snapshot_path", "snapshot_tensors",
           "write_command"]
