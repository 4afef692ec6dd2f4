"""The parts of a project beside the network (settings, curves, weights, extras): where the window keeps them,
and moving a whole project between the window and a `Project`."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any, Callable

from engine.config import TrainConfig
from engine.metrics import MetricsHistory
from gui.builder.network_editor import NetworkEditor
from models.architecture import Architecture

if TYPE_CHECKING:  # torch and the modules built on it load after the window is up (gui.engine_loader)
    import torch

    from engine.normalization import Normalization
    from engine.project.project_file import Project

Weights = dict[str, "torch.Tensor"]

STALE_WEIGHTS_NOTE = ("; the trained weights were left out: they belong to the network as it was before your "
                      "latest edits (train again to save new ones)")


@dataclass
class ProjectState:
    """Getters and setters for everything in a project except the network.

    The window injects the training panel's `config`/`set_config` and the live views' `trained_state`,
    `history` and `restore`; `held()` keeps the values in the object itself (a window without a training
    panel, and tests).
    """

    config: Callable[[], TrainConfig]
    set_config: Callable[[TrainConfig], None]
    trained_state: Callable[[], Weights | None]
    history: Callable[[], MetricsHistory]
    # curves, weights (None: untrained) and, optionally, the input normalisation they were trained with
    restore: Callable[..., None]
    extras: Callable[[], dict[str, Any]]                        # JSON values, e.g. {"ui": {"probe_index": 3}}
    set_extras: Callable[[dict[str, Any]], None]
    normalization: Callable[[], Normalization | None] = lambda: None  # of the trained weights, when known

    @classmethod
    def held(cls, config: TrainConfig | None = None) -> "ProjectState":
        box: dict[str, Any] = {"config": config or TrainConfig(), "history": MetricsHistory(), "weights": None,
                               "extras": {}, "normalization": None}

        def restore(history: MetricsHistory, weights: Weights | None,
                    normalization: Normalization | None = None) -> None:
            box["history"], box["weights"], box["normalization"] = history, weights, normalization

        return cls(config=lambda: box["config"], set_config=lambda c: box.__setitem__("config", c),
                   trained_state=lambda: box["weights"], history=lambda: box["history"], restore=restore,
                   extras=lambda: dict(box["extras"]), set_extras=lambda e: box.__setitem__("extras", dict(e)),
                   normalization=lambda: box["normalization"])

    def has_curves(self) -> bool:
        history = self.history()
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
    project = Project(architecture, state.config(), copy_history(state.history()), weights, dict(state.extras()),
                      normalization)
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
    state.set_extras({} if architecture_only else dict(project.extras))
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
