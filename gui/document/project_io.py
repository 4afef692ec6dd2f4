"""The parts of a project beside the network (settings, curves, weights, extras): where the window keeps them,
and moving a whole project between the window and a `Project`."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Callable

from engine.config import TrainConfig
from engine.metrics import MetricsHistory
from gui.builder.network_editor import NetworkEditor
from gui.workspace import TrainedWeights, Workspace
from models.architecture import Architecture
from models.network import Network

if TYPE_CHECKING:  # torch and the modules built on it load after the window is up (gui.engine_loader)
    import torch

    from engine.normalization import Normalization
    from engine.project.project_file import Project

Weights = dict[str, "torch.Tensor"]

STALE_WEIGHTS_NOTE = ("; the trained weights were left out: they belong to the network as it was before your "
                      "latest edits (train again to save new ones)")


@dataclass
class ProjectState:
    """Everything in a project except the network: the workspace (weights, curves, the probe sample) and the
    training panel's settings (`config` / `set_config`); `restore(history, weights, normalization=None)` shows a
    saved run (the training controller's, which rebuilds the views; WeightsError if the weights do not fit).
    `held()` keeps the settings in the object itself and restores into the workspace alone (a window without a
    training panel, and tests)."""

    workspace: Workspace
    config: Callable[[], TrainConfig]
    set_config: Callable[[TrainConfig], None]
    restore: Callable[..., None]

    @classmethod
    def held(cls, network: Network, config: TrainConfig | None = None) -> "ProjectState":
        """Restored weights belong to `network` as it is when they arrive (apply_project sets it first)."""
        box = {"config": config or TrainConfig()}
        workspace = Workspace()

        def restore(history: MetricsHistory, weights: Weights | None,
                    normalization: Normalization | None = None) -> None:
            workspace.history = history
            workspace.trained = None if weights is None else TrainedWeights(weights, network.architecture,
                                                                             normalization)

        return cls(workspace, config=lambda: box["config"], set_config=lambda c: box.__setitem__("config", c),
                   restore=restore)

    def trained_state(self) -> Weights | None:
        trained = self.workspace.trained
        return trained.state if trained is not None else None

    def normalization(self) -> Normalization | None:
        trained = self.workspace.trained
        return trained.normalization if trained is not None else None

    def history(self) -> MetricsHistory:
        return self.workspace.history

    def has_curves(self) -> bool:
        history = self.workspace.history
        return bool(history.batches or history.epochs)


def weights_fit(architecture: Architecture, weights: Weights | None) -> bool:
    """True when `weights` load into `architecture` exactly (False for None or a network edited since)."""
    from engine.project.project_file import ProjectError, check_weights_fit

    if weights is None:
        return False
    try:
        check_weights_fit(architecture, weights, "the trained weights")
    except ProjectError:
        return False
    return True


def collect_project(architecture: Architecture, state: ProjectState) -> tuple[Project, str]:
    """The project to save, and a note for the status bar (weights that no longer fit are left out)."""
    from engine.project.project_file import Project

    weights, note = state.trained_state(), ""
    if weights is not None and not weights_fit(architecture, weights):
        weights, note = None, STALE_WEIGHTS_NOTE
    normalization = state.normalization() if weights is not None else None
    project = Project(architecture, state.config(), copy_history(state.history()), weights,
                      state.workspace.extras(), normalization)
    return project, note


def apply_project(editor: NetworkEditor, state: ProjectState, project: Project, *, architecture_only: bool) -> str:
    """Show `project` in the window: the network (undo history starts afresh), then settings, then curves and
    weights. An architecture file keeps the current settings and, if the dataset decides it, the input shape.

    Returns a note for the status bar ('' normally). The project was validated when read, so nothing here
    should fail; if the settings' dataset changed the input before the weights arrived, the weights that no
    longer fit are left out (and named in the note) rather than raising halfway.
    """
    from engine.network.weights import WeightsError

    network = editor.network
    architecture = project.architecture
    if architecture_only and editor.input_follows_dataset:
        architecture = replace(architecture, input=network.architecture.input)
    editor.undo_stack.clear()
    network.set_architecture(architecture)
    editor.undo_stack.setClean()
    if not architecture_only:
        state.set_config(project.config)  # may switch the dataset (and so the input) before weights arrive
    state.workspace.set_extras({} if architecture_only else dict(project.extras))
    try:
        state.restore(project.history, project.weights, project.normalization)
    except WeightsError as exc:
        state.restore(project.history, None)
        return f"; its weights were not loaded ({exc})"
    return ""


def copy_history(history: MetricsHistory) -> MetricsHistory:
    """A snapshot of the rows (the live history keeps growing while a run goes on)."""
    return MetricsHistory(list(history.batches), list(history.epochs))


def copy_weights(weights: Weights | None) -> Weights | None:
    """Detached CPU copies, safe to hand to another thread while training changes the originals."""
    if weights is None:
        return None
    return {name: t.detach().to("cpu", copy=True) for name, t in weights.items()}
