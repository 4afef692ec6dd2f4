"""The export-format registry: its suffixes are the writers' own, and a format's options reach its writer from
the command line, checked with a one-line error."""

from __future__ import annotations

import onnx
import pytest
import torch

from engine.network.builder import build_model
from engine.export import formats, images, onnx_format, python_source, tables, torch_formats
from engine.export.target import ExportError
from engine.project.project_file import Project, save_project
from main import main
from models.presets import load_preset

WRITER_SUFFIXES = {
    "state-dict": torch_formats.STATE_DICT_SUFFIXES, "safetensors": torch_formats.SAFETENSORS_SUFFIXES,
    "torchscript": torch_formats.TORCHSCRIPT_SUFFIXES, "onnx": onnx_format.ONNX_SUFFIXES,
    "python": python_source.PYTHON_SUFFIXES, "filters-png": (), "metrics-csv": (".csv",),
    "summary-md": tables.SUMMARY_STYLES["md"], "summary-csv": tables.SUMMARY_STYLES["csv"],
}


def test_every_format_accepts_what_its_writer_accepts():
    assert {f.key: f.suffixes for f in formats.FORMATS} == WRITER_SUFFIXES
    assert images.PNG_SUFFIXES == (".png",)  # filters-png writes a folder of these
    assert formats.by_key("onnx").options[0].default == onnx_format.OPSET
    with pytest.raises(KeyError, match="known: state-dict"):
        formats.by_key("gif")


def test_options_are_checked_with_a_sentence_naming_the_option():
    onnx_fmt = formats.by_key("onnx")
    assert onnx_fmt.checked_options() == {"opset": 17, "input": "pixels"}
    assert onnx_fmt.checked_options({"opset": "18"}) == {"opset": 18, "input": "pixels"}
    with pytest.raises(ExportError, match=r"--input of the onnx export is 'raw'; use one of pixels, normalized"):
        onnx_fmt.checked_options({"input": "raw"})
    with pytest.raises(ExportError, match=r"--opset of the onnx export is 16; use 17 or more"):
        onnx_fmt.checked_options({"opset": 16})
    with pytest.raises(ExportError, match=r"--opset of the onnx export must be a whole number, not 'x'"):
        onnx_fmt.checked_options({"opset": "x"})
    with pytest.raises(ExportError, match=r"the state-dict export has no option --opset; it takes none"):
        formats.by_key("state-dict").checked_options({"opset": 18})


@pytest.fixture
def project_file(tmp_path):
    torch.manual_seed(0)
    path = tmp_path / "net.convscope"
    save_project(Project(load_preset("lenet5"), weights=build_model(load_preset("lenet5")).state_dict()), path)
    return path


def test_the_onnx_opset_from_the_command_line(capsys, tmp_path, project_file):
    assert main(["export", str(project_file), "-f", "onnx", "-o", str(tmp_path / "n.onnx"), "--opset", "19"]) == 0
    assert [o.version for o in onnx.load(str(tmp_path / "n.onnx")).opset_import if o.domain == ""] == [19]
    capsys.readouterr()
    assert main(["export", str(project_file), "-f", "onnx", "-o", str(tmp_path / "m.onnx"), "--opset", "99"]) == 2
    assert capsys.readouterr().err == "error: --opset of the onnx export is 99; use 20 or less\n"
    assert not (tmp_path / "m.onnx").exists()


def test_a_new_format_with_its_own_option_is_one_registry_entry(monkeypatch, capsys, tmp_path, project_file):
    def write(arch, weights, history, out, normalization, layer):
        out.write_text(f"{arch.layers[layer - 1].TYPE} {tuple(weights[f'{layer - 1}.weight'].shape)}")
        return [out]

    layer = formats.ExportOption("layer", "Layer", 1, "which layer (1 = the first)", minimum=1)
    probe = formats.ExportFormat("layer-txt", "One layer", "{stem}.txt", (".txt",), formats.NEEDS_WEIGHTS, write,
                                 "FILE.txt", "one layer's weight shape", (layer,))
    monkeypatch.setattr(formats, "FORMATS", formats.FORMATS + (probe,))
    out = tmp_path / "layer.txt"
    assert main(["export", str(project_file), "-f", "layer-txt", "-o", str(out), "--layer", "4"]) == 0
    assert out.read_text() == "conv2d (16, 6, 5, 5)" and capsys.readouterr().out == f"wrote {out}\n"
    assert main(["export", str(project_file), "-f", "layer-txt", "-o", str(out), "--layer", "0"]) == 2
    assert capsys.readouterr().err == "error: --layer of the layer-txt export is 0; use 1 or more\n"
    with pytest.raises(SystemExit):
        main(["export", "--help"])
    assert "layer-txt    --out FILE.txt" in capsys.readouterr().out
