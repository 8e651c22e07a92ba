import pytest

from course_utils.schedules import ExponentialSchedule, LinearSchedule


def test_linear_schedule_values():
    eps = LinearSchedule(1.0, 0.1, duration=100)
    assert eps(0) == 1.0
    assert eps(50) == pytest.approx(0.55)
    assert eps(100) == pytest.approx(0.1)
    assert eps(10**6) == pytest.approx(0.1)
    assert [eps(t) for t in range(0, 101, 10)] == sorted([eps(t) for t in range(0, 101, 10)], reverse=True)


def test_linear_schedule_can_increase():
    beta = LinearSchedule(0.4, 1.0, duration=10)
    assert beta(5) == pytest.approx(0.7) and beta(20) == pytest.approx(1.0)


def test_exponential_schedule_values():
    eps = ExponentialSchedule(1.0, 0.05, decay=0.9)
    assert eps(0) == 1.0
    assert eps(1) == pytest.approx(0.9)
    assert eps(10) == pytest.approx(0.9**10)
    assert eps(1000) == 0.05


@pytest.mark.parametrize(
    "factory, message",
    [
        (lambda: LinearSchedule(1.0, 0.1, duration=0), "duration must be >= 1"),
        (lambda: LinearSchedule("1", 0.1, duration=5), "start must be a number"),
        (lambda: ExponentialSchedule(1.0, 0.1, decay=1.0), "decay must be between 0 and 1"),
        (lambda: ExponentialSchedule(1.0, 0.1, decay=0.0), "decay must be between 0 and 1"),
        (lambda: ExponentialSchedule(0.1, 1.0, decay=0.5), "must not exceed start"),
    ],
)
def test_schedule_bad_arguments(factory, message):
    with pytest.raises((ValueError, TypeError), match=message):
        factory()


@pytest.mark.parametrize("schedule", [LinearSchedule(1, 0, 10), ExponentialSchedule(1, 0, 0.5)])
@pytest.mark.parametrize("step", [-1, 2.5, "3"])
def test_schedule_bad_step(schedule, step):
    with pytest.raises(ValueError, match="step must be a non-negative int"):
        schedule(step)
