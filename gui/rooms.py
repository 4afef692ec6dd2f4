"""The rooms of the window that stand on the engine, and so on torch: one import for gui.engine_loader to run
off the GUI thread before MainWindow.build_rooms uses them."""

from __future__ import annotations

from gui.document.export_dialog import ExportDialog, exported_message
from gui.document.export_worker import ExportRunner, file_stem
from gui.evaluation.evaluation_tab import EvaluationTab
from gui.experiments.experiments_tab import ExperimentsTab
from gui.explainer.explainer_tab import ExplainerTab
from gui.explainer.maximisation_panel import MaximisationPanel
from gui.explainer.network_cases import NetworkCases
from gui.timeline.timeline_tab import TimelineTab
from gui.training.dataset_loader import DatasetLoader
from gui.training.live_views import LiveViews
from gui.training.training_controller import TrainingController
from gui.training.training_panel import TrainingPanel
from gui.training.training_session import TrainingSession

__all__ = ["DatasetLoader", "EvaluationTab", "ExperimentsTab", "ExplainerTab", "ExportDialog",
           "ExportRunner", "LiveViews", "MaximisationPanel", "NetworkCases", "TimelineTab", "TrainingController",
           "TrainingPanel", "TrainingSession", "exported_message", "file_stem"]
