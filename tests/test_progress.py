from course_utils.progress import progress_bar


def test_progress_bar_iterates_and_counts(monkeypatch):
    monkeypatch.delenv("TQDM_DISABLE", raising=False)
    monkeypatch.delenv("COURSE_HEADLESS", raising=False)
    bar = progress_bar(range(5), desc="x", disable=False, file=open("/dev/null", "w"))
    assert list(bar) == [0, 1, 2, 3, 4]
    assert bar.n == 5


def test_progress_bar_by_hand(monkeypatch):
    monkeypatch.delenv("TQDM_DISABLE", raising=False)
    monkeypatch.delenv("COURSE_HEADLESS", raising=False)
    with open("/dev/null", "w") as sink:
        bar = progress_bar(total=10, desc="by hand", file=sink, disable=False)
        bar.update(3)
        bar.update(2)
        assert (bar.n, bar.total, bar.desc) == (5, 10, "by hand")
        bar.close()
    assert bar.disable  # tqdm marks a closed bar disabled


def test_headless_switches_bars_off_even_when_asked_for(monkeypatch):
    monkeypatch.setenv("COURSE_HEADLESS", "1")
    bar = progress_bar(range(3), disable=False)
    assert bar.disable and list(bar) == [0, 1, 2]
