from course_utils.progress import progress_bar


def test_progress_bar_iterates_and_counts():
    bar = progress_bar(range(5), desc="x", disable=False, file=open("/dev/null", "w"))
    assert list(bar) == [0, 1, 2, 3, 4]
    assert bar.n == 5


def test_progress_bar_by_hand():
    bar = progress_bar(total=10, disable=True)
    bar.update(3)
    bar.close()
