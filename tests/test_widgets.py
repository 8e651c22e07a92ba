"""The notebook side of the course with the ipywidgets that is installed: 7.7 (Colab's) or 8.

Colab ships ipywidgets 7.7.1 (widget protocol: controls 1.5.0), and its front end draws only
that; the lock installs 8.x (controls 2.0.0). The player, the progress bars and the video
display must work with both. The default suite runs these tests with the lock's 8.x;
``python3 tasks.py colab`` runs them again in a venv that holds Colab's recorded versions
(ipywidgets 7.7.1, IPython 7.34, ipykernel 6.17.1, tqdm 4.67.3, ...). Each test checks the
widget protocol of the major installed (controls 1.5.0 under 7.x), so nothing is skipped
under either.
"""
from __future__ import annotations

import numpy as np
import pytest

import ipywidgets

import course_utils as cu

MAJOR = int(ipywidgets.__version__.split(".")[0])
# The version of the widget protocol's "controls" models each ipywidgets major speaks.
CONTROLS = {7: "1.5.0", 8: "2.0.0"}
WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"


def unsure_agent(obs):
    """Q-values that always leave the decision to the person (below any positive threshold)."""
    return np.zeros((len(obs), 2))


def test_the_installed_ipywidgets_is_one_the_course_supports():
    assert MAJOR in CONTROLS, f"ipywidgets {ipywidgets.__version__}: the course supports 7.7 and 8"


def test_the_player_builds_and_plays_with_this_ipywidgets():
    play = cu.AssistedPlay(unsure_agent, seed=0, threshold=1.0)
    view = play.widget()
    image, status, buttons = view.children[0], view.children[1], view.children[2].children
    assert view._model_module_version == CONTROLS[MAJOR]
    assert image.value[:8] == b"\x89PNG\r\n\x1a\n" and "your move" in status.value
    buttons[1].click()
    assert play.log.human_steps == 1 and "Steps: agent 0, you 1" in status.value


def test_a_progress_bar_in_a_notebook_is_a_widget_with_this_ipywidgets(monkeypatch):
    """In a notebook ``tqdm.auto`` is ``tqdm.notebook``: ask for that one directly, without a kernel."""
    import tqdm.auto
    import tqdm.notebook

    monkeypatch.delenv("TQDM_DISABLE", raising=False)
    monkeypatch.delenv("COURSE_HEADLESS", raising=False)
    monkeypatch.setattr(tqdm.auto, "tqdm", tqdm.notebook.tqdm)
    bar = cu.progress_bar(range(4), desc="training", display=False)
    assert list(bar) == [0, 1, 2, 3]
    progress = bar.container.children[1]
    assert isinstance(progress, ipywidgets.FloatProgress) and progress.value == 4 and progress.max == 4
    assert progress._model_module_version == CONTROLS[MAJOR]
    bar.close()


def test_show_video_builds_what_the_notebook_displays(tmp_path):
    frames = [np.full((40, 60, 3), 20 * i, np.uint8) for i in range(4)]
    gif = cu.show_video(cu.save_video(frames, tmp_path / "episode.gif"))
    mp4 = cu.show_video(cu.save_video(frames, tmp_path / "episode.mp4"))
    assert gif._repr_mimebundle_()[0]["image/gif"]
    assert "<video" in mp4._repr_html_() and "data:video/mp4;base64," in mp4._repr_html_()


NOTEBOOK = [
    "import os; os.environ.pop('TQDM_DISABLE', None); os.environ.pop('COURSE_HEADLESS', None)\n"
    "import numpy as np, ipywidgets, course_utils as cu\n"
    "print(ipywidgets.__version__)",
    "cu.AssistedPlay(lambda obs: np.zeros((len(obs), 2)), seed=0, threshold=1.0).widget()",
    "for _ in cu.progress_bar(range(3), desc='training'):\n    pass",
    "frames = [np.full((40, 60, 3), 20 * i, np.uint8) for i in range(4)]\n"
    "cu.show_video(cu.save_video(frames, 'episode.mp4'))",
]


def test_in_a_kernel_the_player_and_the_progress_bar_display_as_widgets(tmp_path):
    """A real kernel (a few seconds): the player's view and a progress bar are widget views, the video HTML."""
    import nbclient
    import nbformat

    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(source) for source in NOTEBOOK])
    nbclient.NotebookClient(nb, timeout=120, kernel_name="python3",
                            resources={"metadata": {"path": str(tmp_path)}}).execute()
    version, player, bar, video = ([o for o in cell.outputs if o.output_type != "stream" or o.name == "stdout"]
                                   for cell in nb.cells)
    assert version[0].text.strip() == ipywidgets.__version__
    assert WIDGET_VIEW in player[0].data, player
    assert any(WIDGET_VIEW in o.get("data", {}) for o in bar), bar  # tqdm.notebook's bar
    assert "<video" in video[0].data["text/html"]
